// The REPL driven through its input stream against an in-process daemon (node + control API).
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { PassThrough } from 'node:stream'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GossipNode } from '../src/core/node.js'
import { createApi } from '../src/daemon/api.js'
import { GossipClient } from '../src/client/client.js'
import { Repl, runRepl } from '../src/repl/repl.js'
import { startNode, removeTempDirs, tempDir, waitFor } from './helpers.js'

let node: GossipNode
let api: Awaited<ReturnType<typeof createApi>>
let client: GossipClient

beforeAll(async () => {
  node = await startNode()
  api = await createApi({ node, token: 'repl-token' })
  client = new GossipClient({ url: api.url, token: 'repl-token' })
})
afterAll(async () => {
  await api?.close()
  await node?.stop()
  removeTempDirs()
})

function harness (opts: { terminal?: boolean, historyFile?: string } = {}): { input: PassThrough, text: () => string, done: Promise<void>, type: (line: string) => void } {
  const input = new PassThrough()
  const output = new PassThrough()
  let text = ''
  output.on('data', d => { text += d })
  const done = runRepl({ client, input, output, terminal: opts.terminal ?? false, historyFile: opts.historyFile })
  return { input, text: () => text, done, type: line => input.write(line + '\n') }
}

describe('gossipd repl', () => {
  it('help, pub, sub with a live incoming message, history, unknown command, and exit at end of input', async () => {
    const dir = tempDir()
    const historyFile = join(dir, 'repl_history')
    const r = harness({ historyFile })
    r.type('help')
    await waitFor('help', () => r.text().includes('commands:'))
    for (const c of ['pub TOPIC MESSAGE', 'sub TOPIC', 'unsub TOPIC', 'history TOPIC', 'peers', 'topics', 'status']) expect(r.text()).toContain(c)

    r.type('sub room')
    await waitFor('subscribed', () => r.text().includes('subscribed to room'))
    r.type('pub room hello   from the repl')
    await waitFor('own message shown', () => /\[room\] \S+ \S+#1: hello {3}from the repl/.test(r.text()))
    expect(r.text()).toContain('published to room: seq 1')

    // a message from elsewhere (here: the node itself) appears live
    await node.publish('room', 'incoming!')
    await waitFor('incoming shown', () => r.text().includes('#2: incoming!'))

    r.type('history room 5')
    await waitFor('history', () => (r.text().match(/incoming!/g) ?? []).length === 2)
    r.type('topics')
    await waitFor('topics', () => r.text().includes('room  2 messages'))
    r.type('status')
    await waitFor('status', () => r.text().includes(`peer ${node.peerId}`))
    r.type('peers')
    await waitFor('peers', () => r.text().includes('no peers connected'))
    r.type('frobnicate')
    await waitFor('unknown', () => r.text().includes('unknown command "frobnicate"'))
    r.type('pub')
    await waitFor('usage', () => r.text().includes('usage: pub TOPIC MESSAGE...'))
    r.type('pub bad!topic x')
    await waitFor('api error', () => r.text().includes('invalid topic name'))
    // '..' and '.' would be dropped from the URL as path segments: still a bad topic, not an unknown endpoint
    for (const cmd of ['join ..', 'join .', 'leave ..', 'pub .. x', 'history ..', 'sub ..']) {
      const before = r.text().length
      r.type(cmd)
      await waitFor(cmd, () => r.text().slice(before).includes('(BAD_TOPIC)'))
      expect(r.text().slice(before), cmd).toContain('invalid topic name')
      expect(r.text().slice(before), cmd).not.toContain('NOT_FOUND')
    }

    // the REPL's FROM is positional: the error names it so (it named the CLI's --from)
    r.type('sub other bogus')
    await waitFor('bad FROM', () => r.text().includes('invalid FROM "bogus"'))
    expect(r.text()).not.toContain('--from')
    r.type('unsub room')
    await waitFor('unsub', () => r.text().includes('unsubscribed from room'))

    r.input.end()
    await r.done
    expect(node.status().consumers).toBe(0)
    const hist = readFileSync(historyFile, 'utf8').split('\n')
    expect(hist).toContain('pub room hello   from the repl')
    expect(hist.indexOf('help')).toBeLessThan(hist.indexOf('unsub room'))
  })

  it('exit leaves; the history file is loaded again next time', async () => {
    const historyFile = join(tempDir(), 'repl_history')
    writeFileSync(historyFile, 'status\n')
    const r = harness({ historyFile })
    r.type('topics')
    r.type('exit')
    await r.done
    expect(readFileSync(historyFile, 'utf8')).toBe('status\ntopics\nexit\n')
  })

  it('in terminal mode, a live message is printed above the prompt and the typed line is redrawn', async () => {
    const r = harness({ terminal: true })
    r.type('sub tty')
    await waitFor('subscribed', () => r.text().includes('subscribed to tty'))
    r.input.write('pub tty half-typ')
    await waitFor('echo', () => r.text().includes('half-typ'))
    await node.publish('tty', 'interrupting')
    await waitFor('message', () => r.text().includes('interrupting'))
    const tail = r.text().slice(r.text().indexOf('interrupting'))
    // after the message: the prompt and the half-typed line again
    expect(tail).toContain('gossipd> pub tty half-typ')
    // Ctrl-U clears the half-typed line, then Ctrl-D on the empty line leaves
    r.input.write('\x15\x04')
    await r.done
  })

  it('tab completion offers commands and known topics', async () => {
    const input = new PassThrough()
    const output = new PassThrough()
    output.resume()
    await client.join('completion-topic')
    const repl = new Repl({ client, input, output, terminal: false })
    await repl.start()
    expect(repl.complete('hi')[0]).toEqual(['history '])
    expect(repl.complete('s')[0].sort()).toEqual(['status ', 'sub '])
    expect(repl.complete('sub completion-t')).toEqual([['completion-topic '], 'completion-t'])
    expect(repl.complete('pub completion-topic some')[0]).toEqual([])
    repl.close()
    await repl.done
  })
})
