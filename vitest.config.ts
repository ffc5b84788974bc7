import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the JSON report lets .ci/run print a one-line 'N passed, N failed' summary
    reporters: ['default', ['json', { outputFile: 'results/vitest.json' }]],
    setupFiles: ['./src/polyfill.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // multi-peer tests open many sockets and SQLite files; two workers fit a 2-core machine
    pool: 'forks',
    maxWorkers: 2,
  },
})
