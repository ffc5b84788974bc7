// `gossipd start`'s command-line options -> the flag layer of the config (RawConfig). Only options given on
// the command line count: a flag left out must not hide the environment or the config file.
import { resolveConfig, type DaemonConfig, type RawConfig } from './config.js'

/** The options of `gossipd start` (with the global --data and --api), as commander names them. */
export interface StartFlags {
  config?: string
  data?: string
  api?: string
  listen?: string[]
  mdns?: boolean
  peer?: string[]
  topic?: string[]
  logLevel?: string
  maxPayload?: string
  maxStreams?: string
  metrics?: string
  connectionsLow?: string
  connectionsHigh?: string
  retentionMaxMessages?: string
  retentionMaxBytes?: string
  retentionMaxAge?: string
  swarmKey?: string
  apiSocket?: string
}

/** `given(flag)`: was the option on the command line (not a default)? */
export type GivenFlag = (flag: keyof StartFlags) => boolean

const KEYS: Array<[keyof StartFlags, keyof RawConfig]> = [
  ['data', 'dataDir'], ['api', 'api'], ['listen', 'listen'], ['mdns', 'mdns'], ['peer', 'peers'],
  ['topic', 'topics'], ['logLevel', 'logLevel'], ['maxPayload', 'maxPayloadBytes'], ['maxStreams', 'maxStreams'], ['metrics', 'metrics'], ['swarmKey', 'swarmKey'], ['apiSocket', 'apiSocket'],
  ['connectionsLow', 'connectionsLow'], ['connectionsHigh', 'connectionsHigh'],
]
const RETENTION_KEYS: Array<[keyof StartFlags, string]> = [
  ['retentionMaxMessages', 'maxMessages'], ['retentionMaxBytes', 'maxBytes'], ['retentionMaxAge', 'maxAge'],
]

export function rawConfigFromFlags (o: StartFlags, given: GivenFlag): RawConfig {
  const raw: RawConfig = {}
  for (const [flag, key] of KEYS) if (given(flag)) raw[key] = o[flag]
  const retention: Record<string, unknown> = {}
  for (const [flag, key] of RETENTION_KEYS) if (given(flag)) retention[key] = o[flag]
  if (Object.keys(retention).length > 0) raw.retention = retention
  return raw
}

/** The daemon's config from start's flags, the environment and the config file (--config or GOSSIPD_CONFIG). */
export function configFromFlags (o: StartFlags, given: GivenFlag, env: NodeJS.ProcessEnv): DaemonConfig {
  return resolveConfig({ flags: rawConfigFromFlags(o, given), env, file: o.config })
}
