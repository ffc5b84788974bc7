// Who may call the API: a bearer token on every call, and Host/Origin checks against DNS rebinding
// (a browser tricked into calling us sends a foreign Host; a web page sends its Origin).
import type { FastifyRequest } from 'fastify'
import { timingSafeEqual, randomBytes } from 'node:crypto'
import { networkInterfaces } from 'node:os'
import { ApiError } from './errors.js'
import { viaUnixSocket } from './unix-socket.js'
import { ERROR_CODES } from '../../wire/errors.js'

export function generateToken (): string {
  return randomBytes(32).toString('base64url')
}

function loopbackHosts (): Set<string> {
  return new Set(['127.0.0.1', 'localhost', '::1'])
}

function allInterfaceHosts (): Set<string> {
  const s = loopbackHosts()
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) s.add(i.address)
  return s
}

/** "host:port" or "[v6]:port" -> {host, port} (lower-cased host, no brackets) */
function splitHostHeader (h: string): { host: string, port: string } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(h.trim().toLowerCase())
  if (m == null) return null
  return { host: m[1] ?? m[2], port: m[3] ?? '80' }
}

export class RequestGuard {
  private readonly token: Buffer
  // until bind() no request can match: nothing is served before the server listens
  private port = ''
  private hosts = loopbackHosts()

  /**
   * letIn: asked after the Host/Origin checks; true lets the request through without the bearer token
   * (the observability routes: public probes, or the swarm page's session cookie, see observe/index.ts)
   */
  constructor (token: string, private readonly letIn: (req: FastifyRequest) => boolean = () => false) { this.token = Buffer.from(token) }

  /** The address the server is bound to: Host and Origin must name it (any local address for a wildcard). */
  bind (address: string, port: number): void {
    this.port = String(port)
    if (address === '0.0.0.0' || address === '::') this.hosts = allInterfaceHosts()
    else this.hosts.add(address.toLowerCase())
  }

  /** Throws the ApiError (403 or 401) that refuses the request. */
  check (req: FastifyRequest): void {
    const host = splitHostHeader(req.headers.host ?? '')
    // a unix socket (0600) cannot be reached by a browser: only the token matters there, and the routes that
    // need none on loopback TCP (/metrics, /healthz, /readyz) need none here either
    if (viaUnixSocket(req.raw.socket)) { if (!this.letIn(req)) this.checkToken(req); return }
    if (host == null || !this.hosts.has(host.host) || host.port !== this.port) {
      throw new ApiError(403, ERROR_CODES.FORBIDDEN_HOST, `Host ${JSON.stringify(req.headers.host ?? '')} is not this daemon's address; only loopback clients are served`)
    }
    const origin = req.headers.origin
    if (origin != null && !this.allowsOrigin(origin)) throw new ApiError(403, ERROR_CODES.FORBIDDEN_ORIGIN, `requests from origin ${JSON.stringify(origin)} are refused`)
    if (this.letIn(req)) return
    this.checkToken(req)
  }

  private checkToken (req: FastifyRequest): void {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    const given = Buffer.from(m?.[1] ?? '')
    if (m == null || given.length !== this.token.length || !timingSafeEqual(given, this.token)) {
      throw new ApiError(401, ERROR_CODES.UNAUTHORIZED, m == null ? 'missing bearer token (Authorization: Bearer <token from api.json>)' : 'wrong token')
    }
  }

  private allowsOrigin (origin: string): boolean {
    try {
      const u = new URL(origin)
      const o = splitHostHeader(u.host)
      return u.protocol === 'http:' && o != null && this.hosts.has(o.host) && o.port === this.port
    } catch { return false }
  }
}
