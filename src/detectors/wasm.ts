// Just enough of the WebAssembly binary format to write the tree-walking kernels (tree-walks.ts)
// by hand: functions over i32 parameters and locals, one exported memory, structured control flow,
// i32 and f64 arithmetic. Kernels are written as arrays of instructions built by the helpers here.
// Compiled WebAssembly checks memory bounds with guard pages rather than a compare per access, which
// is what makes these loops faster than the same loops over typed arrays.

/** A sequence of encoded instructions. */
export type Code = readonly number[];

const I32 = 0x7f;
const BLOCK_EMPTY = 0x40;

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function vector(items: readonly (readonly number[])[]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  return vector([...text].map((c) => [c.charCodeAt(0)]));
}

function section(id: number, body: readonly number[]): number[] {
  return [id, ...unsignedLeb(body.length), ...body];
}

/** Instructions that take no immediate. */
export const op = {
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  i32Eqz: [0x45],
  i32Ne: [0x47],
  i32GeU: [0x4f],
  f64Lt: [0x63],
  f64Add: [0xa0],
  /** Pops a, b, c: a when c is not 0, else b. */
  select: [0x1b],
} as const satisfies Record<string, Code>;

export const i32Const = (value: number): Code => [0x41, ...signedLeb(value)];
/** Loads at the address on the stack plus a constant byte offset. */
export const i32Load = (offset = 0): Code => [0x28, 2, ...unsignedLeb(offset)];
export const f64Load = (offset = 0): Code => [0x2b, 3, ...unsignedLeb(offset)];
/** Stores the value on top of the stack at the address below it plus a constant byte offset. */
export const f64Store = (offset = 0): Code => [0x39, 3, ...unsignedLeb(offset)];
export const i32Store = (offset = 0): Code => [0x36, 2, ...unsignedLeb(offset)];

/** A loop: `br_if 0` inside it jumps back to its start, `br_if 1` leaves an enclosing block. */
export const loop = (...body: Code[]): Code => [0x03, BLOCK_EMPTY, ...body.flat(), 0x0b];
export const block = (...body: Code[]): Code => [0x02, BLOCK_EMPTY, ...body.flat(), 0x0b];
export const brIf = (depth: number): Code => [0x0d, ...unsignedLeb(depth)];
export const br = (depth: number): Code => [0x0c, ...unsignedLeb(depth)];

/**
 * A function whose parameters and locals are all i32 and addressed by name. The function itself
 * returns nothing: kernels read and write their memory.
 */
export class WasmFunction {
  private readonly slots = new Map<string, number>();

  constructor(
    readonly exportName: string,
    readonly params: readonly string[],
    readonly locals: readonly string[],
  ) {
    [...params, ...locals].forEach((n, i) => {
      if (this.slots.has(n)) throw new Error(`${exportName}: '${n}' is declared twice`);
      this.slots.set(n, i);
    });
  }

  private slot(local: string): number[] {
    const index = this.slots.get(local);
    if (index === undefined) throw new Error(`${this.exportName}: no local '${local}'`);
    return unsignedLeb(index);
  }

  get = (local: string): Code => [0x20, ...this.slot(local)];
  set = (local: string): Code => [0x21, ...this.slot(local)];
  tee = (local: string): Code => [0x22, ...this.slot(local)];

  /** `local += step`. */
  increment = (local: string, step: number): Code => [...this.get(local), ...i32Const(step), ...op.i32Add, ...this.set(local)];

  /**
   * `for (local = 0; local < bound; local += step) body`: `body` sits two blocks deep, so its
   * own loops and blocks count from there.
   */
  forUp = (local: string, bound: Code, step: number, ...body: Code[]): Code => [
    ...i32Const(0), ...this.set(local),
    ...block(loop(
      this.get(local), bound, op.i32GeU, brIf(1),
      ...body,
      this.increment(local, step), br(0),
    )),
  ];
}

/** A module of `functions` sharing one exported memory named 'memory'. */
export function wasmModule(functions: readonly { fn: WasmFunction; body: Code }[]): WebAssembly.Module {
  const types = functions.map(({ fn }) => [0x60, ...vector(fn.params.map(() => [I32])), ...vector([])]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, i) => unsignedLeb(i)))),
    // One page to start; the kernels grow it to what a model needs.
    ...section(5, vector([[0x00, ...unsignedLeb(1)]])),
    ...section(7, vector([
      ...functions.map(({ fn }, i) => [...name(fn.exportName), 0x00, ...unsignedLeb(i)]),
      [...name('memory'), 0x02, 0x00],
    ])),
    ...section(10, vector(functions.map(({ fn, body }) => {
      const locals = fn.locals.length > 0 ? vector([[...unsignedLeb(fn.locals.length), I32]]) : vector([]);
      const code = [...locals, ...body, 0x0b];
      return [...unsignedLeb(code.length), ...code];
    }))),
  ];
  return new WebAssembly.Module(new Uint8Array(bytes));
}
