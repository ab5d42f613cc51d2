// The subset of the Thrift compact protocol that Parquet's footer and page headers need:
// structs, lists of structs or i32/binary, and scalar fields.
import { ByteWriter, utf8Bytes } from './bytes.js';

const CompactType = { True: 1, False: 2, I16: 4, I32: 5, I64: 6, Binary: 8, List: 9, Struct: 12 } as const;
type CompactType = (typeof CompactType)[keyof typeof CompactType];

export type ListElement = 'i32' | 'binary' | 'struct';

const LIST_TYPES: Record<ListElement, CompactType> = { i32: CompactType.I32, binary: CompactType.Binary, struct: CompactType.Struct };

/** Zigzag varint; exact for integers up to 2^52 in magnitude (file offsets, row counts). */
function zigzag(out: ByteWriter, value: number): void {
  out.varint(value >= 0 ? value * 2 : -value * 2 - 1);
}

export class ThriftWriter {
  readonly out: ByteWriter;
  private lastField = 0;
  private readonly stack: number[] = [];

  constructor(out = new ByteWriter(256)) {
    this.out = out;
  }

  private header(id: number, type: CompactType): void {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) {
      this.out.byte((delta << 4) | type);
    } else {
      this.out.byte(type);
      zigzag(this.out, id);
    }
    this.lastField = id;
  }

  i32(id: number, value: number): this {
    this.header(id, CompactType.I32);
    zigzag(this.out, value);
    return this;
  }

  i16(id: number, value: number): this {
    this.header(id, CompactType.I16);
    zigzag(this.out, value);
    return this;
  }

  i64(id: number, value: number): this {
    this.header(id, CompactType.I64);
    zigzag(this.out, value);
    return this;
  }

  bool(id: number, value: boolean): this {
    this.header(id, value ? CompactType.True : CompactType.False);
    return this;
  }

  binary(id: number, value: Uint8Array): this {
    this.header(id, CompactType.Binary);
    this.out.varint(value.length);
    this.out.bytes(value);
    return this;
  }

  string(id: number, value: string): this {
    return this.binary(id, utf8Bytes(value));
  }

  /** Opens a struct field; close it with end(). */
  struct(id: number): this {
    this.header(id, CompactType.Struct);
    this.stack.push(this.lastField);
    this.lastField = 0;
    return this;
  }

  /** Closes the innermost struct (or the top-level one, which has no matching struct()). */
  end(): this {
    this.out.byte(0);
    this.lastField = this.stack.pop() ?? 0;
    return this;
  }

  private listHeader(id: number, element: ListElement, size: number): void {
    this.header(id, CompactType.List);
    const type = LIST_TYPES[element];
    if (size < 15) {
      this.out.byte((size << 4) | type);
    } else {
      this.out.byte(0xf0 | type);
      this.out.varint(size);
    }
  }

  listI32(id: number, values: readonly number[]): this {
    this.listHeader(id, 'i32', values.length);
    for (const value of values) zigzag(this.out, value);
    return this;
  }

  listString(id: number, values: readonly string[]): this {
    this.listHeader(id, 'binary', values.length);
    for (const value of values) {
      const bytes = utf8Bytes(value);
      this.out.varint(bytes.length);
      this.out.bytes(bytes);
    }
    return this;
  }

  /** A list of structs, each written by `write` between an implicit open and end(). */
  listStruct<T>(id: number, items: readonly T[], write: (item: T, w: this, index: number) => void): this {
    this.listHeader(id, 'struct', items.length);
    for (let i = 0; i < items.length; i++) {
      this.stack.push(this.lastField);
      this.lastField = 0;
      write(items[i]!, this, i);
      this.end();
    }
    return this;
  }
}
