// The one place core opens the durable queue, so how the store is built (options, and soon the envelope
// codec it is handed) is wired in one spot. GossipNode calls it at each start unless given a store.
import { Store } from '../store/store.js'
import type { Retention } from '../store/retention.js'

export interface StoreOpenOptions {
  retention?: Partial<Retention>
  synchronous?: 'FULL' | 'NORMAL'
}

export type StoreFactory = (dataDir: string, opts: StoreOpenOptions) => Store

export const openStore: StoreFactory = (dataDir, opts) => new Store(dataDir, { retention: opts.retention, synchronous: opts.synchronous })
