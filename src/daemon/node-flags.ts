// V8 flags for the daemon's node process, given by every launcher gossipd ships (the bin's shebang, the
// systemd unit, the Dockerfile through the bin, `npm start`, and the bench and LAN tools that spawn daemons).
// V8 grows the young generation up to 16 MB per semi-space after the start-up burst of allocation and never
// gives it back: a third of an idle daemon's private memory. Capped at 2 MB: an idle daemon's RSS 101 -> 83 MB
// (private 52 -> 34 MB); the 5-node throughput bench moved within its run-to-run noise (1,137-1,500 msg/s vs
// 1,243-1,655). These flags cannot be set from inside a running process (v8.setFlagsFromString is too late).
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2']
