// Browser sessions for the swarm page. The bearer token never goes into a URL: `gossipd ui` (holding the
// token) asks for a one-time login code, valid for two minutes; the page at /ui/login?code=... spends it
// and gets an HttpOnly, SameSite=Strict session cookie, then is redirected to /ui/ so the address bar
// holds no secret. Sessions live in memory: a daemon restart logs every browser out.
import { randomBytes } from 'node:crypto'

const CODE_TTL_MS = 120_000
export const SESSION_TTL_MS = 12 * 3600_000

export class Sessions {
  private readonly codes = new Map<string, number>()
  private readonly sessions = new Map<string, number>()

  constructor (private readonly now: () => number = Date.now) {}

  newLoginCode (): string {
    this.prune()
    const code = randomBytes(24).toString('base64url')
    this.codes.set(code, this.now() + CODE_TTL_MS)
    return code
  }

  /** spend a login code; returns a new session id, or null if the code is unknown, used or expired */
  redeem (code: string): string | null {
    this.prune()
    const exp = this.codes.get(code)
    if (exp == null) return null
    this.codes.delete(code)
    if (exp < this.now()) return null
    const id = randomBytes(32).toString('base64url')
    this.sessions.set(id, this.now() + SESSION_TTL_MS)
    return id
  }

  /** a live session id (sliding expiry) */
  valid (id: string | undefined): boolean {
    if (id == null || id.length !== 43) return false
    const exp = this.sessions.get(id)
    if (exp == null || exp < this.now()) { if (exp != null) this.sessions.delete(id); return false }
    this.sessions.set(id, this.now() + SESSION_TTL_MS)
    return true
  }

  end (id: string | undefined): void { if (id != null) this.sessions.delete(id) }

  private prune (): void {
    const t = this.now()
    for (const [k, exp] of this.codes) if (exp < t) this.codes.delete(k)
    for (const [k, exp] of this.sessions) if (exp < t) this.sessions.delete(k)
  }
}

/** Cookies are per host, not per port: each daemon on a host names its cookie after its API port. */
export function cookieName (port: string | number): string { return `gossipd_session_${port}` }

export function readCookie (header: string | undefined, name: string): string | undefined {
  if (header == null) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

