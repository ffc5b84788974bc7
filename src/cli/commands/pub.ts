// gossipd pub TOPIC [MESSAGE]: publish one message, or each line of stdin.
import type { Command } from 'commander'
import { createInterface } from 'node:readline'
import type { Runner } from '../command.js'
import { clientFromOptions } from '../connect.js'
import { out } from '../output.js'
import { CliError } from '../errors.js'
import { BASE64_RULE, decodeBase64 } from '../../wire/base64.js'
import { ERROR_CODES } from '../../wire/errors.js'
import { EXIT } from '../../wire/exit-codes.js'

/** onLine gets each non-empty line with its line number in the input (empty lines counted) */
async function readLines (onLine: (line: string, lineNo: number) => Promise<void>): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  let lineNo = 0
  for await (const line of rl) {
    lineNo++
    if (line === '') continue
    await onLine(line, lineNo)
  }
}

export function registerPub (program: Command, run: Runner): void {
  program.command('pub')
    .description('publish a message; without MESSAGE, publishes each line of stdin as one message (empty lines are skipped)')
    .argument('<topic>', 'topic name')
    .argument('[message]', 'message text (UTF-8)')
    .option('--base64', 'MESSAGE (or each stdin line) is base64-encoded bytes (standard alphabet, = padding optional); text that is not is refused with exit 2 (stdin: lines before it stay published, reading stops)')
    .option('--msg-id <id>', 'idempotency key: publishing the same key on the topic again within 2 min returns the first result instead of publishing twice (stdin: ID-1, ID-2, ... per line)')
    .action(run(async (g, topic: string, message: string | undefined, o: { base64?: boolean, msgId?: string }) => {
      let line = 0
      let published = 0
      // --base64: text that is not strict base64 is refused before it is sent; on stdin, the lines before
      // a bad one stay published and reading stops there (the input may be a stream that never ends)
      const payloadOf = (text: string, lineNo?: number): string | Uint8Array => {
        if (o.base64 !== true) return text
        const bytes = decodeBase64(text)
        if (bytes != null) return bytes
        throw new CliError(lineNo == null
          ? `MESSAGE is not valid base64 (${BASE64_RULE}): nothing was published`
          : `stdin line ${lineNo} is not valid base64 (${BASE64_RULE}): it and the lines after it were not published (${published} published before it)`, EXIT.USAGE, ERROR_CODES.BAD_PAYLOAD)
      }
      // a bad MESSAGE is a usage error even with no daemon running
      const given = message != null ? payloadOf(message) : undefined
      const client = clientFromOptions(g)
      const one = async (text: string, lineNo?: number): Promise<void> => {
        const payload = given ?? payloadOf(text, lineNo)
        line++
        const msgId = o.msgId == null ? undefined : message != null ? o.msgId : `${o.msgId}-${line}`
        const r = await client.publish(topic, payload, { msgId })
        published++
        const notes = `${r.duplicate === true ? ' (duplicate: already published, nothing new)' : ''}${r.durable === false ? ` (warning: ${r.warning ?? 'not durable'})` : ''}`
        out(g.json === true ? JSON.stringify(r) : `published to ${r.topic}: seq ${r.seq}, offset ${r.offset}${notes}`)
      }
      if (message != null) await one(message)
      else {
        if (process.stdin.isTTY === true) process.stderr.write('reading messages from stdin, one per line (Ctrl-D to end)\n')
        await readLines(one)
      }
    }))
}
