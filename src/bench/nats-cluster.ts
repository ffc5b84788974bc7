// The NATS JetStream reference as a bench cluster: nats.js clients of a nats-server already running with
// JetStream (the parent started it, broker-process.ts). One stream with file storage holds the topic's
// subject; each subscriber is its own connection reading its own durable pull consumer (explicit acks,
// from the first message); the publisher's publish() resolves on the stream's PubAck (stored).
import { connect, AckPolicy, DeliverPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type NatsConnection } from 'nats'
import { TOPIC, type Cluster } from './cluster.js'

const STREAM = 'GOSSIPD_BENCH'
/** messages each subscriber's pull requests ask for at a time */
const PULL_BATCH = 256

export async function createNatsCluster (url: string, size: number): Promise<Cluster> {
  const conns: NatsConnection[] = []
  const feeds: ConsumerMessages[] = []
  const delivered = new Array<number>(size - 1).fill(0)
  const drops = { peerDisconnect: 0, connectionClose: 0 }
  let ready = false
  const open = async (name: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: url, name, reconnect: false })
    conns.push(nc)
    nc.closed().then(() => { if (ready) drops.connectionClose++ }, () => { if (ready) drops.connectionClose++ })
    return nc
  }
  let js: JetStreamClient | undefined
  const cluster: Cluster = {
    impl: 'nats',
    size,
    delivered,
    drops,
    publish: async payload => await js!.publish(TOPIC, payload),
    extra: () => ({}),
    stop: async () => {
      ready = false
      for (const f of feeds) await f.close()
      await Promise.allSettled(conns.map(async nc => await nc.drain()))
    },
  }
  try {
    const pub = await open('gossipd-bench-pub')
    const jsm = await pub.jetstreamManager()
    await jsm.streams.add({ name: STREAM, subjects: [TOPIC], storage: StorageType.File })
    for (let i = 0; i < size - 1; i++) {
      const durable = `sub${i}`
      await jsm.consumers.add(STREAM, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All })
      const nc = await open(`gossipd-bench-sub-${i}`)
      const feed = await (await nc.jetstream().consumers.get(STREAM, durable)).consume({ max_messages: PULL_BATCH })
      feeds.push(feed)
      void (async () => {
        for await (const m of feed) {
          delivered[i]++
          cluster.onDeliver?.(i, m.data)
          m.ack()
        }
      })().catch(() => {})
    }
    js = pub.jetstream()
    ready = true
    return cluster
  } catch (err) {
    await Promise.allSettled(conns.map(async nc => await nc.close()))
    throw err
  }
}
