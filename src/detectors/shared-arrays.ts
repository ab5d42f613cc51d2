// Typed arrays on SharedArrayBuffers: compiled models built once and handed to scoring threads
// by reference (posting a shared array copies nothing); and the per-stride node offsets the
// scorers of both compiled models walk with.

export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * 8));
}

export function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

const columnOffsets = new WeakMap<Int32Array, { stride: number; offsets: Int32Array }>();

/**
 * feature[i] * stride for each node: column offsets in place of feature indices save a multiply
 * per step. Kept for the last stride seen, as batches of one scan share it.
 */
export function offsetsFor(feature: Int32Array, stride: number): Int32Array {
  const cached = columnOffsets.get(feature);
  if (cached !== undefined && cached.stride === stride) return cached.offsets;
  const offsets = new Int32Array(feature.length);
  for (let i = 0; i < offsets.length; i++) offsets[i] = feature[i]! * stride;
  columnOffsets.set(feature, { stride, offsets });
  return offsets;
}
