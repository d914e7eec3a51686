#!/usr/bin/env node
// The `marginlab` command inside this repository (`npm run backtest`, the tests): runs the
// TypeScript sources through tsx, no build needed. The published package's bin is
// dist/src/cli/bin.mjs, the same entry running the compiled JavaScript.
import '../src/cli/bin.mjs';
