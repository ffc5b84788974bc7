#!/usr/bin/env -S node --max-semi-space-size=2 --interrupt-budget=1000000
// gossipd command line: the compiled CLI lives in dist/ (npm run build).
// Its V8 flag caps the young generation (why: src/daemon/node-flags.ts); every other launcher passes the same.
import { main } from '../dist/cli/main.js'

await main()
