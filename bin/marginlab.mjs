#!/usr/bin/env node
// The `marginlab` command inside this repository (`npm run backtest`): the compiled package in
// dist/ when it is the build of the current sources (scripts/dist-fresh.mjs: `npm ci` builds it),
// else the TypeScript sources through tsx (src/cli/bin.mjs), so an edit to src/ counts without a
// build. Same results either way (test/cli-run.test.ts); dist/ starts ≈ 1 s sooner. The published
// package's bin is dist/src/cli/bin.mjs.
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../scripts/dist-fresh.mjs';

// a call, not a top-level await (src/cli/main.ts says why)
void import(distIsFresh(fileURLToPath(new URL('..', import.meta.url))) ? '../dist/src/cli/bin.mjs' : '../src/cli/bin.mjs');
