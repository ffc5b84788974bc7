// SIGHUP: read the configuration again (file, environment, flags) and apply what can change while running:
// the peer allow/deny lists and the publisher allowlists. Everything else needs a restart, and a config
// that no longer validates is logged and ignored (the running settings stay).
import type { Logger } from 'pino'
import type { GossipNode } from '../core/node.js'
import type { DaemonConfig } from './config.js'

export function applyReloadable (node: GossipNode, cfg: DaemonConfig): void {
  node.setPeerAccess({ allow: cfg.trust?.allowPeers, deny: cfg.trust?.denyPeers })
  node.setPublishers(cfg.trust?.publishers ?? {})
}

/**
 * Install the SIGHUP handler now, before the node is up (a SIGHUP's default action ends the process); the access
 * lists change without a restart once attach(node) has been called. A SIGHUP before that is applied then.
 */
export function reloadOnSighup (load: () => DaemonConfig, log: Logger): { attach: (node: GossipNode) => void, off: () => void } {
  let node: GossipNode | undefined
  let pending = false
  const apply = (n: GossipNode): void => {
    try {
      const cfg = load()
      applyReloadable(n, cfg)
      log.info({ allowPeers: cfg.trust?.allowPeers?.length ?? 'any', denyPeers: cfg.trust?.denyPeers.length ?? 0, publisherTopics: Object.keys(cfg.trust?.publishers ?? {}) }, 'configuration reloaded (SIGHUP)')
    } catch (err) {
      log.error({ err: (err as Error).message }, 'SIGHUP: configuration not reloaded; keeping the running one')
    }
  }
  const onHup = (): void => {
    if (node != null) apply(node)
    else pending = true
  }
  process.on('SIGHUP', onHup)
  return {
    attach: n => {
      node = n
      if (pending) { pending = false; apply(n) }
    },
    off: () => { process.off('SIGHUP', onHup) },
  }
}
