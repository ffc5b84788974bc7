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

/** Install the SIGHUP handler; returns its removal. */
export function reloadOnSighup (node: GossipNode, load: () => DaemonConfig, log: Logger): () => void {
  const onHup = (): void => {
    try {
      const cfg = load()
      applyReloadable(node, cfg)
      log.info({ allowPeers: cfg.trust?.allowPeers?.length ?? 'any', denyPeers: cfg.trust?.denyPeers.length ?? 0, publisherTopics: Object.keys(cfg.trust?.publishers ?? {}) }, 'configuration reloaded (SIGHUP)')
    } catch (err) {
      log.error({ err: (err as Error).message }, 'SIGHUP: configuration not reloaded; keeping the running one')
    }
  }
  process.on('SIGHUP', onHup)
  return () => { process.off('SIGHUP', onHup) }
}
