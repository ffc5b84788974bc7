// One-line renderings shared by the CLI and the REPL.
import { isoTime, type MessageJson } from './message.js'

/** peer ids are long: the last 8 characters tell them apart on screen */
export function shortId (id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id
}

function payloadText (m: MessageJson): string {
  return m.encoding === 'base64' ? `(base64) ${m.payload}` : m.payload
}

/** REPL: "[topic] HH:MM:SS …origin#seq: payload" */
export function formatMessage (m: MessageJson, withTopic = true): string {
  const time = isoTime(m.ts).slice(11, 19)
  return `${withTopic ? `[${m.topic}] ` : ''}${time} ${shortId(m.origin)}#${m.seq}: ${payloadText(m)}`
}

/** CLI sub/history: "[offset]  YYYY-MM-DD HH:MM:SS  …origin#seq  payload" */
export function messageLine (m: MessageJson, withOffset: boolean): string {
  return `${withOffset ? `${String(m.offset).padStart(6)}  ` : ''}${String(m.time).replace('T', ' ').slice(0, 19)}  ${shortId(m.origin)}#${m.seq}  ${payloadText(m)}`
}
