// Runs inside a host's network namespace: forwards a unix socket (a path every namespace can see) to the
// daemon's API on that namespace's loopback, so the fault checker reaches every daemon without any route
// into the simulated LAN, and a partition or packet loss on the LAN never touches the checker's own calls.
// usage: node api-bridge.js SOCKET_PATH PORT
import { createServer, connect } from 'node:net'
import { rmSync } from 'node:fs'

const [path, port] = [process.argv[2], Number(process.argv[3])]
rmSync(path, { force: true })
const server = createServer(client => {
  const upstream = connect(port, '127.0.0.1')
  client.pipe(upstream).pipe(client)
  const close = (): void => { client.destroy(); upstream.destroy() }
  client.on('error', close)
  upstream.on('error', close)
})
server.listen(path)
const stop = (): void => { server.close(); rmSync(path, { force: true }); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
