// Typed arrays on SharedArrayBuffers: compiled models built once and handed to scoring threads
// by reference (posting a shared array copies nothing).

export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * 8));
}
