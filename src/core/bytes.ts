// Byte comparison for Uint8Arrays that may be views into larger buffers (what the wire hands us).

/** true when a and b hold the same bytes */
export function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}
