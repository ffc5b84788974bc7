// GET /v1/status and /v1/peers: what the node is and whom it talks to.
import type { PeersResult, Status } from '../../../wire/results.js'
import type { ApiContext } from '../context.js'
import { peersJson, statusJson } from '../to-wire.js'
import type { ApiApp } from '../context.js'

export function statusRoutes (app: ApiApp, ctx: ApiContext): void {
  const { node } = ctx
  app.get('/v1/status', async (): Promise<Status> => statusJson(node.status(), ctx.statusExtra?.()))
  app.get('/v1/peers', async (): Promise<PeersResult> => ({ peers: peersJson(node.peers()) }))
}
