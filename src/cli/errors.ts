// How a failed command ends: one line on stderr (or a JSON error with --json) and an exit code (src/wire/exit-codes.ts).
import { ApiRequestError, DaemonUnreachableError } from '../client/client.js'
import { EXIT } from '../wire/exit-codes.js'

/** A failure the CLI itself diagnosed, with its exit code and --json error code. */
export class CliError extends Error {
  constructor (message: string, readonly exitCode: number, readonly code: string) { super(message) }
}

export class UsageError extends CliError {
  constructor (message: string) { super(message, EXIT.USAGE, 'USAGE') }
}

/** Report err on stderr; returns the exit code. */
export function fail (err: unknown, json: boolean): number {
  let code: number = EXIT.ERROR
  let errCode = 'ERROR'
  let message = (err as Error)?.message ?? String(err)
  if (err instanceof DaemonUnreachableError) {
    code = EXIT.NO_DAEMON; errCode = 'NO_DAEMON'
  } else if (err instanceof ApiRequestError) {
    errCode = err.code
    code = err.status === 401 || err.status === 403 ? EXIT.AUTH : err.status >= 500 ? EXIT.UNAVAILABLE : EXIT.REJECTED
    if (err.status === 401) message += ' (is the token from this daemon\'s api.json?)'
  } else if (err instanceof CliError) {
    code = err.exitCode; errCode = err.code
  }
  if (json) process.stderr.write(JSON.stringify({ error: { code: errCode, message } }) + '\n')
  else process.stderr.write(`gossipd: ${message}\n`)
  return code
}
