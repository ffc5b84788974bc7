#!/usr/bin/env node
// gossipd command line: the compiled CLI lives in dist/ (npm run build).
import { main } from '../dist/cli/main.js'

await main()
