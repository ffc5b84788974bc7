// Defect 4 of issue 10: after a daemon restart (new port, new token) the REPL reads api.json again
// (its reconnect option) and carries on, resubscribing the topics it was showing.
import { describe, it, expect, afterAll } from 'vitest'
import { PassThrough } from 'node:stream'
import type { GossipNode } from '../src/core/node.js'
import { createApi } from '../src/daemon/api.js'
import { GossipClient } from '../src/client/client.js'
import { runRepl } from '../src/repl/repl.js'
import { startNode, removeTempDirs, waitFor } from './helpers.js'

let node: GossipNode | undefined
const apis: Array<Awaited<ReturnType<typeof createApi>>> = []
afterAll(async () => {
  for (const a of apis) await a.close()
  await node?.stop()
  removeTempDirs()
})

/**
 * A REPL on an API of `node` that the test closes and opens again with a new port and token; the REPL's
 * reconnect reads `current`, as it would read api.json. It starts subscribed to `topic`.
 */
async function replOnRestartedApi (token: string, topic: string): Promise<{ text: () => string, type: (line: string) => void, closeApi: () => Promise<void>, openApi: (token: string) => Promise<string>, end: () => Promise<void> }> {
  node ??= await startNode()
  let api = await createApi({ node, token })
  apis.push(api)
  let current = { url: api.url, token }
  const input = new PassThrough()
  const output = new PassThrough()
  let text = ''
  output.on('data', d => { text += d })
  const done = runRepl({ client: new GossipClient(current), input, output, terminal: false, reconnect: () => new GossipClient(current) })
  input.write(`sub ${topic}\n`)
  await waitFor('subscribed', () => text.includes(`subscribed to ${topic}`))
  return {
    text: () => text,
    type: line => input.write(line + '\n'),
    closeApi: async () => { await api.close() },
    openApi: async t => {
      api = await createApi({ node: node!, token: t })
      apis.push(api)
      current = { url: api.url, token: t }
      return api.url
    },
    end: async () => { input.end(); await done },
  }
}

describe('repl after a daemon restart', () => {
  it('re-reads the daemon address and token, retries the command and resubscribes', async () => {
    const r = await replOnRestartedApi('first-token', 'room')
    await r.closeApi()
    const url = await r.openApi('second-token')
    await waitFor('stream lost', () => r.text().includes('[room] the daemon closed the stream') || r.text().includes('[room] stream failed'))

    r.type('pub room after restart')
    await waitFor('published after reconnecting', () => r.text().includes('published to room'))
    expect(r.text()).toContain(`reconnected to gossipd at ${url}`)
    await waitFor('resubscribed and shown', () => r.text().includes('resubscribed to room') && r.text().includes(': after restart'))
    await r.end()
  })

  it('with nothing typed, reconnects and resubscribes by itself, and shows what was published meanwhile', async () => {
    const r = await replOnRestartedApi('idle-1', 'quiet')
    await r.closeApi()
    await waitFor('stream lost', () => r.text().includes('[quiet] the daemon closed the stream') || r.text().includes('[quiet] stream failed'))
    // published while the REPL has no stream: shown once it is back, from the offset it had reached
    await node!.publish('quiet', 'while away')
    await r.openApi('idle-2')
    await waitFor('resubscribed without a command', () => r.text().includes('resubscribed to quiet') && r.text().includes(': while away'), 20_000)
    await node!.publish('quiet', 'live again')
    await waitFor('live messages shown', () => r.text().includes(': live again'))
    await r.end()
  }, 30_000)
})
