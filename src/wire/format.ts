// One-line renderings shared by the CLI and the REPL.
import { isoTime, type MessageJson } from './message.js'

/** peer ids are long: the last 8 characters tell them apart on screen */
export function shortId (id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id
}

// C0 and C1 controls, DEL, and the Unicode bidi overrides: a payload holding them could retitle or recolour
// a terminal, or start a new line that looks like another peer's message
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** Text made safe to print on a terminal: every control character shown as \xNN or \uNNNN. */
export function terminalSafe (s: string): string {
  return String(s).replace(UNSAFE, c => {
    const n = c.charCodeAt(0)
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`
  })
}

function payloadText (m: MessageJson): string {
  return m.encoding === 'base64' ? `(base64) ${m.payload}` : terminalSafe(m.payload)
}

/** REPL: "[topic] HH:MM:SS …origin#seq: payload" */
export function formatMessage (m: MessageJson, withTopic = true): string {
  const time = isoTime(m.ts).slice(11, 19)
  return `${withTopic ? `[${terminalSafe(m.topic)}] ` : ''}${time} ${terminalSafe(shortId(m.origin))}#${m.seq}: ${payloadText(m)}`
}

/** CLI sub/history: "[offset]  YYYY-MM-DD HH:MM:SS  …origin#seq  payload" */
export function messageLine (m: MessageJson, withOffset: boolean): string {
  return `${withOffset ? `${String(m.offset).padStart(6)}  ` : ''}${terminalSafe(String(m.time).replace('T', ' ').slice(0, 19))}  ${terminalSafe(shortId(m.origin))}#${m.seq}  ${payloadText(m)}`
}
