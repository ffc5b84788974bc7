// The one base64 check of gossipd, used wherever text is taken as base64 bytes: the API's JSON publish
// ({"encoding": "base64"}) and `gossipd pub --base64` (CLI argument and stdin lines).
//
// Accepted: the standard alphabet (A-Z a-z 0-9 + /), padding either absent or exactly right, and no stray
// bits in the last character, so every accepted text is the canonical encoding of its bytes (re-encoding
// gives it back, padded). Refused: base64url (- _), mixed alphabets, whitespace, a length of 1 mod 4,
// wrong padding, non-zero trailing bits. Node's Buffer.from(text, 'base64') would instead skip what it does
// not know and drop a dangling character, so bad input would publish other bytes than meant.

/** groups of 4, then a tail of 2 (+ optional "==") or 3 (+ optional "=") characters */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/

/** what an accepted text is, for error messages */
export const BASE64_RULE = 'standard alphabet A-Z a-z 0-9 + /, = padding optional'

/** The bytes of a base64 text, or undefined when the text is not strict, canonical base64 (see above). */
export function decodeBase64 (text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !BASE64.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  // the last character may carry bits beyond the bytes ("aGl=" is "hi" too): only the canonical one is accepted
  if (bytes.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) return undefined
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
