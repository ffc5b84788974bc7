// The client options' --api / GOSSIPD_API value is checked before any request: a value that names no
// reachable address is a usage error (exit 2) naming the setting, not "no gossipd daemon running" (exit 3).
import { describe, it, expect } from 'vitest'
import { clientFromOptions } from '../src/cli/connect.js'
import { UsageError } from '../src/cli/errors.js'
import { EXIT } from '../src/wire/exit-codes.js'

describe('gossipd client options: --api', () => {
  it('refuses an address no daemon can be at with exit 2, naming --api or GOSSIPD_API', () => {
    for (const api of ['127.0.0.1:99999', 'ftp://x', 'http://127.0.0.1:1/', '127.0.0.1:6000', '127.0.0.1:abc', '[::1::1]:7420', '']) {
      let err: unknown
      try { clientFromOptions({ api, token: 't' }, {}) } catch (e) { err = e }
      expect(err, api).toBeInstanceOf(UsageError)
      expect((err as UsageError).exitCode, api).toBe(EXIT.USAGE)
      expect((err as Error).message, api).toContain('--api')
    }
    expect(() => clientFromOptions({ token: 't' }, { GOSSIPD_API: '127.0.0.1:70000' })).toThrow(/GOSSIPD_API/)
  })

  it('accepts HOST:PORT, a bare port and http(s) URLs', () => {
    for (const [api, url] of [['127.0.0.1:7420', 'http://127.0.0.1:7420'], ['7420', 'http://127.0.0.1:7420'], ['localhost:8000', 'http://localhost:8000'], ['[::1]:7420', 'http://[::1]:7420'], ['http://127.0.0.1:7420/', 'http://127.0.0.1:7420']]) {
      expect(clientFromOptions({ api, token: 't' }, {}).url, api).toBe(url)
    }
  })
})
