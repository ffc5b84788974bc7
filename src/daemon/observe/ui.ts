// The live swarm page: static files from dist/web (src/web in development), the login that turns a
// one-time code into a session cookie (see sessions.ts), and /ui/events, the SSE feed the page draws from.
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Sessions } from './sessions.js'
import { cookieName, readCookie, SESSION_TTL_MS } from './sessions.js'
import type { LiveView } from './live.js'
import type { SseStreams } from './sse.js'
import type { ApiApp } from '../api/context.js'
import type { StreamSlots } from '../api/stream-slots.js'

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url))
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' }
// the page loads nothing from elsewhere and may not be framed
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
}
/** tail messages per second sent to one page; more are counted, not sent */
const TAIL_PER_SECOND = 50
/** bytes queued for a page past which nothing more is written to it: a page that stops reading (a frozen tab)
 * must not grow the daemon's memory */
const PAGE_BUFFER_BYTES = 256 * 1024

export interface UiDeps {
  sessions: Sessions
  live: () => LiveView | undefined
  streams: SseStreams
  /** the daemon's maxStreams slots, shared with topic streams and /v1/logs */
  slots: StreamSlots
  /** route config that lets a request past the bearer-token check */
  publicConfig: Record<string, unknown>
  /** true when the request was authenticated by its session cookie (not by the bearer token) */
  viaSession: (req: FastifyRequest) => boolean
}

function loadAssets (): Map<string, { body: Buffer, type: string }> {
  const files = new Map<string, { body: Buffer, type: string }>()
  let names: string[] = []
  try { names = readdirSync(WEB_DIR) } catch { /* not built: the page explains */ }
  for (const name of names) {
    const ext = name.slice(name.lastIndexOf('.'))
    if (TYPES[ext] != null) files.set(name, { body: readFileSync(join(WEB_DIR, name)), type: TYPES[ext] })
  }
  return files
}

function portOf (req: FastifyRequest): string {
  return String((req.socket.address() as { port?: number }).port ?? '')
}

export function sessionOf (req: FastifyRequest): string | undefined {
  return readCookie(req.headers.cookie, cookieName(portOf(req)))
}

function notLoggedIn (reply: FastifyReply, why: string): FastifyReply {
  return reply.status(401).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(`<!doctype html><meta charset="utf-8"><title>gossipd: log in</title>
<h1>Not logged in</h1><p>${why}</p><p>Run <code>gossipd ui</code> on the daemon's host and open the link it prints (each link works once, for two minutes).</p>`)
}

export function uiRoutes (app: ApiApp, deps: UiDeps): void {
  const assets = loadAssets()
  const config = deps.publicConfig

  // asked with the bearer token by `gossipd ui`; a browser session cannot mint more sessions
  app.post('/v1/ui/login-link', async (req, reply) => {
    if (deps.viaSession(req)) return await reply.status(403).send({ error: { code: 'TOKEN_REQUIRED', message: 'login links need the bearer token' } })
    const code = deps.sessions.newLoginCode()
    const host = req.headers.host ?? `127.0.0.1:${portOf(req)}`
    return { url: `http://${host}/ui/login?code=${code}`, expiresInMs: 120_000 }
  })

  app.get('/ui/login', { config }, async (req, reply) => {
    const code = (req.query as { code?: string }).code
    const session = typeof code === 'string' ? deps.sessions.redeem(code) : null
    if (session == null) return notLoggedIn(reply, 'This login link is unknown, used already, or expired.')
    const cookie = `${cookieName(portOf(req))}=${session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`
    // redirect so the spent code leaves the address bar
    return await reply.status(303).headers(PAGE_HEADERS).header('set-cookie', cookie).header('location', '/ui/').send()
  })

  app.post('/ui/logout', async (req, reply) => {
    deps.sessions.end(sessionOf(req))
    return await reply.header('set-cookie', `${cookieName(portOf(req))}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).send({ loggedOut: true })
  })

  app.get('/ui', { config }, async (_req, reply) => await reply.status(308).header('location', '/ui/').send())
  app.get('/ui/', { config }, async (req, reply) => {
    if (!deps.sessions.valid(sessionOf(req))) return notLoggedIn(reply, 'This browser has no session with this daemon.')
    const page = assets.get('index.html')
    if (page == null) return await reply.status(500).type('text/plain').send('the web page is not built: run npm run build')
    return await reply.headers(PAGE_HEADERS).type(page.type).send(page.body)
  })

  app.get('/ui/assets/:name', { config }, async (req, reply) => {
    const a = assets.get((req.params as { name: string }).name)
    if (a == null || (req.params as { name: string }).name === 'index.html') return await reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such asset' } })
    return await reply.headers(PAGE_HEADERS).type(a.type).send(a.body)
  })

  // needs a session or the token (the usual check in api.ts)
  app.get('/ui/events', async (_req, reply) => {
    const live = deps.live()
    if (live == null) return await reply.status(503).send({ error: { code: 'NOT_READY', message: 'the node is not running' } })
    // each page builds a snapshot every second: it takes one of the maxStreams slots (503 TOO_MANY_STREAMS if none is free)
    const release = deps.slots.take()
    let unsubscribe = (): void => {}
    // onEnd runs on a later event (the socket closing), when the timer exists
    const s = deps.streams.start(reply, { heartbeatMs: 15_000, onEnd: () => { unsubscribe(); clearInterval(timer); release() } })
    let second = 0; let sent = 0; let dropped = 0
    // a second's count of messages not sent goes out once the second is over: with the next message, or at
    // the next tick when none comes (the end of a burst was never reported)
    const nextSecond = (): void => {
      const now = Math.floor(Date.now() / 1000)
      if (now === second) return
      if (dropped > 0) s.send('dropped', { messages: dropped, second })
      second = now; sent = 0; dropped = 0
    }
    s.send('snapshot', live.snapshot())
    // a snapshot is the whole state: one skipped while earlier ones wait unsent loses nothing
    const timer = setInterval(() => {
      try {
        nextSecond()
        if (reply.raw.writableLength <= PAGE_BUFFER_BYTES) s.send('snapshot', live.snapshot())
      } catch { s.end() }
    }, 1000)
    unsubscribe = live.onMessage(m => {
      nextSecond()
      if (sent >= TAIL_PER_SECOND || reply.raw.writableLength > PAGE_BUFFER_BYTES) { dropped++; return }
      sent++
      s.send('message', m)
    })
  })
}
