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

describe('repl after a daemon restart', () => {
  it('re-reads the daemon address and token, retries the command and resubscribes', async () => {
    node = await startNode()
    const first = await createApi({ node, token: 'first-token' })
    apis.push(first)
    // what api.json says at any moment
    let current = { url: first.url, token: 'first-token' }
    const input = new PassThrough()
    const output = new PassThrough()
    let text = ''
    output.on('data', d => { text += d })
    const done = runRepl({ client: new GossipClient(current), input, output, terminal: false, reconnect: () => new GossipClient(current) })
    input.write('sub room\n')
    await waitFor('subscribed', () => text.includes('subscribed to room'))

    await first.close()
    const second = await createApi({ node, token: 'second-token' })
    apis.push(second)
    current = { url: second.url, token: 'second-token' }
    await waitFor('stream lost', () => text.includes('[room] the daemon closed the stream') || text.includes('[room] stream failed'))

    input.write('pub room after restart\n')
    await waitFor('published after reconnecting', () => text.includes('published to room'))
    expect(text).toContain(`reconnected to gossipd at ${second.url}`)
    await waitFor('resubscribed and shown', () => text.includes('resubscribed to room') && text.includes(': after restart'))
    input.end()
    await done
  })

  it('with nothing typed, reconnects and resubscribes by itself, and shows what was published meanwhile', async () => {
    node ??= await startNode()
    const first = await createApi({ node, token: 'idle-1' })
    apis.push(first)
    let current = { url: first.url, token: 'idle-1' }
    const input = new PassThrough()
    const output = new PassThrough()
    let text = ''
    output.on('data', d => { text += d })
    const done = runRepl({ client: new GossipClient(current), input, output, terminal: false, reconnect: () => new GossipClient(current) })
    input.write('sub quiet\n')
    await waitFor('subscribed', () => text.includes('subscribed to quiet'))

    await first.close()
    await waitFor('stream lost', () => text.includes('[quiet] the daemon closed the stream') || text.includes('[quiet] stream failed'))
    // published while the REPL has no stream: shown once it is back, from the offset it had reached
    await node.publish('quiet', 'while away')
    const second = await createApi({ node, token: 'idle-2' })
    apis.push(second)
    current = { url: second.url, token: 'idle-2' }
    await waitFor('resubscribed without a command', () => text.includes('resubscribed to quiet') && text.includes(': while away'), 20_000)
    await node.publish('quiet', 'live again')
    await waitFor('live messages shown', () => text.includes(': live again'))
    input.end()
    await done
  }, 30_000)
})
