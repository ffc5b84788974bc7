// The one place core opens the durable queue, so how the store is built (options, and the envelope
// codec it reads its rows with) is wired in one spot. GossipNode calls it at each start unless given a store.
import { Store } from '../store/store.js'
import { envelopeCodec } from './envelope.js'
import type { Retention } from '../store/retention.js'
import type { CheckpointMode } from '../store/db.js'

export interface StoreOpenOptions {
  retention?: Partial<Retention>
  synchronous?: 'FULL' | 'NORMAL'
  /** this node's peer id: the store refuses a data dir bound to another one */
  origin?: string
  /** where WAL checkpoints run (store.ts; default auto) */
  checkpoints?: CheckpointMode
  /** the background checkpointer could not run: the store went back to inline checkpoints */
  onCheckpointerFailed?: (err: Error) => void
}

export type StoreFactory = (dataDir: string, opts: StoreOpenOptions) => Store

export const openStore: StoreFactory = (dataDir, opts) => new Store(dataDir, { codec: envelopeCodec, ...opts })
