// The mosquitto reference as a bench cluster: MQTT 3.1.1 clients of a broker already running (the parent
// started it, broker-process.ts). Subscribers have persistent sessions (clean=false, fixed client ids) and
// subscribe at QoS 1, so the broker queues for them while they are away; the publisher publishes at QoS 1
// and publish() resolves on the broker's PUBACK.
import { Socket } from 'node:net'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { TOPIC, type Cluster } from './cluster.js'

const BASE: IClientOptions = { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 }

export async function createMqttCluster (url: string, size: number): Promise<Cluster> {
  const clients: MqttClient[] = []
  const delivered = new Array<number>(size - 1).fill(0)
  const drops = { peerDisconnect: 0, connectionClose: 0 }
  let ready = false
  let pub: MqttClient | undefined
  const cluster: Cluster = {
    impl: 'mosquitto',
    size,
    delivered,
    drops,
    publish: async payload => await pub!.publishAsync(TOPIC, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1 }),
    extra: () => ({}),
    stop: async () => {
      ready = false
      await Promise.all(clients.map(async c => await c.endAsync()))
    },
  }
  const watch = (c: MqttClient): void => {
    // as nats.js does and mosquitto is told to (set_tcp_nodelay): no Nagle delay on single messages
    if (c.stream instanceof Socket) c.stream.setNoDelay(true)
    c.on('close', () => { if (ready) drops.connectionClose++ })
  }
  try {
    for (let i = 0; i < size - 1; i++) {
      const c = await connectAsync(url, { ...BASE, clientId: `gossipd-bench-sub-${i}`, clean: false })
      clients.push(c)
      watch(c)
      c.on('message', (_topic, payload) => {
        delivered[i]++
        cluster.onDeliver?.(i, payload)
      })
      await c.subscribeAsync(TOPIC, { qos: 1 })
    }
    pub = await connectAsync(url, { ...BASE, clientId: 'gossipd-bench-pub', clean: true })
    clients.push(pub)
    watch(pub)
  } catch (err) {
    await Promise.allSettled(clients.map(async c => await c.endAsync(true)))
    throw err
  }
  ready = true
  return cluster
}
