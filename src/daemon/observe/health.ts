// Liveness and readiness for systemd, Docker and Kubernetes probes. No token: they reveal only whether the
// daemon works. /healthz: the process answers and the node runs. /readyz: the store is open (and has not failed), libp2p
// listens, and, when static peers are configured, at least one peer is connected.
import type { GossipNode } from '../../core/node.js'
import type { ApiApp } from '../api/context.js'

export interface HealthDeps { node: () => GossipNode | undefined, expectPeers: boolean }

export function readiness (deps: HealthDeps): { ready: boolean, checks: Record<string, boolean> } {
  const node = deps.node()
  const running = node?.isRunning === true
  // one status for both checks: it is built afresh on each call
  const status = running ? node!.status() : undefined
  const checks: Record<string, boolean> = {
    // a failed store refuses every write until a restart (store/wal.ts)
    store: status != null && status.storeFailed == null,
    listening: running && node!.addresses.length > 0,
  }
  if (deps.expectPeers) checks.peers = status != null && status.peers > 0
  return { ready: Object.values(checks).every(Boolean), checks }
}

export function healthRoutes (app: ApiApp, deps: HealthDeps, config: Record<string, unknown> = {}): void {
  app.get('/healthz', { config }, async (_req, reply) => {
    const live = deps.node()?.isRunning === true
    return await reply.status(live ? 200 : 503).header('cache-control', 'no-store').send({ status: live ? 'ok' : 'stopped' })
  })
  app.get('/readyz', { config }, async (_req, reply) => {
    const r = readiness(deps)
    return await reply.status(r.ready ? 200 : 503).header('cache-control', 'no-store').send({ status: r.ready ? 'ready' : 'not ready', checks: r.checks })
  })
}
