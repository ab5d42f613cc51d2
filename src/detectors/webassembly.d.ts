// The part of the WebAssembly JavaScript API that tree-walks.ts uses. Node has the API; its
// declarations ship only with TypeScript's DOM library, which a Node project does not load.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, never>);
    readonly exports: Record<string, Memory | ((...args: number[]) => void)>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
