// The live swarm page in a real headless Chromium (Debian's, driven by playwright-core): a 3-node swarm of
// daemon processes on 127.0.0.1 (no mDNS, static peers). The page of node A logs in through a one-time
// link, shows its 2 peers, publishes through its box, and the message shows up in node B's page; no
// session, a spent link and a wrong token are refused. Screenshots go to results/screenshots/.
// npm run build first: the daemons run dist/ (and serve dist/web).
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startDaemon, gossipd, cleanup, tmp, type Daemon } from './daemon-util.js'
import { waitFor } from './helpers.js'
import { GossipClient } from '../src/client/client.js'
import { loginLink } from '../src/client/observe.js'

const CHROMIUM = process.env.GOSSIPD_CHROMIUM ?? '/usr/bin/chromium'
const haveBrowser = existsSync(CHROMIUM)
if (!haveBrowser) console.warn(`SKIPPED test/web-ui.test.ts: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set GOSSIPD_CHROMIUM); the swarm page was NOT tested in a browser`)

const SHOTS = join(process.cwd(), 'results', 'screenshots')
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

let a: Daemon, b: Daemon, c: Daemon
let browser: import('playwright-core').BrowserContext | undefined

/** node A's link comes from the real `gossipd ui`; the others straight from the API (quicker) */
async function loginUrl (d: Daemon, viaCli = false): Promise<string> {
  if (!viaCli) return (await loginLink(new GossipClient({ url: d.url, token: d.token }))).url
  const r = await gossipd(['ui', '--json', '--data', d.dataDir])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout).url
}

describe.skipIf(!haveBrowser)('the swarm page in headless Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    const { chromium } = await import('playwright-core')
    const launching = chromium.launchPersistentContext(tmp('gossipd-chromium-'), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } })
    a = await startDaemon(tmp(), ['--topic', 'chat'])
    ;[b, c] = await Promise.all([startDaemon(tmp(), ['--topic', 'chat', '--peer', a.addr]), startDaemon(tmp(), ['--topic', 'chat', '--peer', a.addr])])
    browser = await launching
    const clientA = new GossipClient({ url: a.url, token: a.token })
    await waitFor('node A connected to B and C, both subscribed to chat', async () => {
      const peers = await clientA.peers()
      return peers.length === 2 && peers.every(p => p.topics.includes('chat'))
    })
  })
  afterAll(async () => {
    await browser?.close()
    await cleanup()
  })

  it('logs in by a one-time link, shows 2 peers, and a message published in A\'s page appears in B\'s', async () => {
    const pageA = await browser!.newPage()
    // nothing the page does may end in the browser console as an error (a failed request included)
    const consoleErrors: string[] = []
    pageA.on('console', m => { if (m.type() === 'error') consoleErrors.push(`${m.text()} ${m.location().url}`) })
    pageA.on('pageerror', e => consoleErrors.push(e.message))
    const linkA = await loginUrl(a, true)
    const resp = await pageA.goto(linkA)
    expect(resp?.status()).toBe(200)
    // the spent code is not left in the address bar
    expect(pageA.url()).toBe(`${a.url}/ui/`)
    const cookies = await browser!.cookies(a.url)
    const session = cookies.find(k => k.name === `gossipd_session_${new URL(a.url).port}`)
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' })

    await pageA.locator('#conn.live').waitFor()
    await waitFor('two peer rows in A\'s page', async () => await pageA.locator('#peers tbody tr').count() === 2, 15_000)
    const rows = await pageA.locator('#peers tbody tr').evaluateAll(trs => trs.map(tr => tr.getAttribute('data-peer')))
    expect(rows.sort()).toEqual([b.peerId, c.peerId].sort())
    expect(await pageA.locator('#self-id').textContent()).toBe(a.peerId)
    // losses and forks are on the page, not only in /metrics
    expect(await pageA.locator('#self-stats').textContent()).toMatch(/gaps given up0.*forked streams0/)
    expect(await pageA.locator('#graph .node').count()).toBe(3)

    const pageB = await browser!.newPage()
    await pageB.goto(await loginUrl(b))
    await pageB.locator('#conn.live').waitFor()

    // the publish box checks the topic with the daemon's rule before sending
    await pageA.fill('#pub-topic', '/not-a-topic')
    expect(await pageA.locator('#pub-topic').evaluate(e => (e as unknown as { validity: { patternMismatch: boolean, valid: boolean } }).validity.patternMismatch)).toBe(true)
    await pageA.fill('#pub-topic', 'a/b.c-d_e')
    expect(await pageA.locator('#pub-topic').evaluate(e => (e as unknown as { validity: { patternMismatch: boolean, valid: boolean } }).validity.valid)).toBe(true)

    const text = `hello from the browser ${Date.now()}`
    await pageA.fill('#pub-topic', 'chat')
    await pageA.fill('#pub-message', text)
    await pageA.click('#publish button')
    await pageA.locator('#pub-result.ok').waitFor()
    expect(await pageA.locator('#pub-result').textContent()).toMatch(/^published: seq 1/)

    await pageB.locator('#tail li', { hasText: text }).waitFor({ timeout: 15_000 })
    expect(await pageB.locator('#tail li', { hasText: text }).getAttribute('data-topic')).toBe('chat')
    // the topic row of B's page counts what arrived, and its mesh holds peers
    await waitFor('chat held by B\'s page', async () => /^1 /.test((await pageB.locator('#topics tbody tr td').nth(1).textContent()) ?? ''), 10_000)
    await pageA.screenshot({ path: join(SHOTS, 'swarm-page-node-a.png'), fullPage: true })
    expect(consoleErrors).toEqual([])
    await pageB.screenshot({ path: join(SHOTS, 'swarm-page-node-b.png'), fullPage: true })

    // the spent link does not log anyone in again
    const again = await browser!.newPage()
    const r = await again.goto(linkA)
    expect(r?.status()).toBe(401)
    await again.screenshot({ path: join(SHOTS, 'login-link-spent.png') })
  })

  it('shows a payload\'s newlines, control characters and bidi overrides escaped: one message stays one line', async () => {
    const page = await browser!.newPage()
    const errors: string[] = []
    page.on('pageerror', e => errors.push(e.message))
    await page.goto(await loginUrl(b))
    await page.locator('#conn.live').waitFor()
    // a peer's payload that would draw a second tail row, as if from another origin, and reverse its own text
    const forged = `hi ${Date.now()}\n12:00:00 PM chat …AAAAAAAA#9 gossip forged\u202eevil\u001b[31m`
    await new GossipClient({ url: a.url, token: a.token }).publish('chat', forged)
    const li = page.locator('#tail li', { hasText: forged.slice(0, 16) })
    await li.waitFor({ timeout: 15_000 })
    expect(await li.locator('.payload').textContent()).toBe(`${forged.slice(0, 16)}\\x0a12:00:00 PM chat …AAAAAAAA#9 gossip forged\\u202eevil\\x1b[31m`)
    // drawn on one line, like any short message
    expect(await li.locator('.payload').evaluate(e => e.getClientRects().length)).toBe(1)
    expect(errors).toEqual([])
  })

  it('the live tail\'s note of messages not shown in a burst goes away once the burst is over', async () => {
    const page = await browser!.newPage()
    await page.goto(await loginUrl(b))
    await page.locator('#conn.live').waitFor()
    // 300 at once on the page's own daemon (by gossip from another, a loaded machine spread them over seconds,
    // under the tail's 50 a second, and CI saw no note): more than the tail's 50 a second
    // and again, up to five bursts, while no note shows: in one CI run on a loaded runner the commits of one
    // burst still spread under 50 in any one second
    const client = new GossipClient({ url: b.url, token: b.token })
    const noted = async (): Promise<boolean> => /not shown in the last second/.test((await page.locator('#tail-dropped').textContent()) ?? '')
    for (let burst = 0; burst < 5 && !(await noted()); burst++) {
      await Promise.all(Array.from({ length: 300 }, async (_, i) => await client.publish('chat', `burst ${burst}.${i}`)))
      await waitFor('the note of messages not shown', noted, 3_000).catch(() => {})
    }
    expect(await noted()).toBe(true)
    await waitFor('the note cleared after the burst', async () => (await page.locator('#tail-dropped').textContent()) === '', 15_000)
  })

  it('a page refused for too many open streams says so, not that it is logged out, and gets in once one closes', async () => {
    const d = await startDaemon(tmp(), ['--topic', 'chat', '--max-streams', '1'])
    const first = await browser!.newPage()
    await first.goto(await loginUrl(d))
    await first.locator('#conn.live').waitFor()
    const second = await browser!.newPage()
    await second.goto(await loginUrl(d))
    await waitFor('the second page says why it has no feed', async () => /too many/.test((await second.locator('#conn').textContent()) ?? ''), 15_000)
    expect(await second.locator('#conn').textContent()).not.toMatch(/logged out/)
    await first.close()
    await second.locator('#conn.live').waitFor({ timeout: 15_000 })
  })

  it('refuses a browser without a session, a forged cookie and a wrong token', async () => {
    // plain requests carry no cookie
    expect((await fetch(`${a.url}/ui/`)).status).toBe(401)
    expect((await fetch(`${a.url}/ui/events`)).status).toBe(401)
    const port = new URL(a.url).port
    const forged = await fetch(`${a.url}/ui/events`, { headers: { cookie: `gossipd_session_${port}=${'x'.repeat(43)}` } })
    expect(forged.status).toBe(401)
    const wrong = await gossipd(['ui', '--data', a.dataDir, '--api', a.url, '--token', 'not-the-token'])
    expect(wrong.code).toBe(4)
    expect(wrong.stderr).toContain('wrong token')
    // a session cookie cannot publish without the page's header (a cross-site form cannot send it)
    const page = await browser!.newPage()
    await page.goto(await loginUrl(a))
    const status = await page.evaluate(async () => (await fetch('/v1/topics/chat/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payload":"x"}' })).status)
    expect(status).toBe(401)
  })
})
