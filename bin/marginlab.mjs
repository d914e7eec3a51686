#!/usr/bin/env node
// Entry point of the `marginlab` command. Sources are TypeScript; tsx compiles them on load
// (no build step, so `npx marginlab` works right after `npm ci`).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
