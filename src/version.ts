// The gossipd version, reported by `gossipd --version`, the status API and api.json (keep in step with package.json).
export const VERSION = '0.1.0'
