// gossipd as a libp2p service, for applications that build their own libp2p node:
//
//   createLibp2p({ ..., services: { identify: identify(), pubsub: gossipsub(gossipOptions()), gossipd: gossipd({ dataDir }) } })
//
// As js-libp2p's own services (ping(init) returns (components) => new Ping(components, init)), the factory
// gets libp2p's components: the node's key, registrar, connection and address managers, event bus and
// logger, and every other service under its key (libp2p/src/components.ts). Components start all at once,
// so the node starts in afterStart, once gossipsub is running, and stops in beforeStop, while it still is.
// Connecting peers (static addresses, discovery) and checking their liveness is the libp2p node owner's job.
import { serviceDependencies, type ComponentLogger, type PrivateKey, type Startable } from '@libp2p/interface'
import { GossipNode, type NodeOptions } from './node.js'
import { componentsHost, type HostComponents } from './host.js'
import type { StoreFactory } from './open-store.js'
import type { Store } from '../store/store.js'
import type { LogFn } from './events.js'

export interface GossipdServiceInit extends Omit<NodeOptions, 'listen' | 'mdns' | 'mdnsServiceTag' | 'mdnsIntervalMs' | 'peers' | 'keepAlive' | 'privateKey'> {
  /** key of the gossipsub service in the same libp2p node, configured with gossipOptions() (default 'pubsub') */
  pubsub?: string
  /** an opened store, or the function that opens one at each start (default: the queue in dataDir) */
  store?: Store | StoreFactory
}

export interface GossipdComponents extends HostComponents {
  privateKey: PrivateKey
  logger: ComponentLogger
}

export class GossipdService implements Startable {
  /** the node: publish, consume, join... and its events */
  readonly node: GossipNode
  readonly [Symbol.toStringTag] = '@gossipd/service'
  readonly [serviceDependencies] = ['@libp2p/pubsub']

  constructor (components: GossipdComponents, init: GossipdServiceInit) {
    const { pubsub, store, ...opts } = init
    const logger = components.logger.forComponent('gossipd')
    // the node's own log function wins; otherwise its lines go to libp2p's logger (DEBUG=gossipd*)
    const log: LogFn = init.log ?? ((level, msg, extra) => {
      if (level === 'warn' || level === 'error') logger.error('%s %o', msg, extra ?? {})
      else logger('%s %o', msg, extra ?? {})
    })
    // the libp2p node's key signs what this node publishes: the origin is the libp2p peer id
    this.node = new GossipNode({ ...opts, log, privateKey: components.privateKey }, { host: componentsHost(components, pubsub ?? 'pubsub'), store })
  }

  start (): void {}

  async afterStart (): Promise<void> {
    await this.node.start()
  }

  async beforeStop (): Promise<void> {
    await this.node.stop()
  }

  stop (): void {}
}

/** The service factory for createLibp2p's `services`. */
export function gossipd (init: GossipdServiceInit): (components: GossipdComponents) => GossipdService {
  return (components) => new GossipdService(components, init)
}
