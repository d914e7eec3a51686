#!/usr/bin/env node
// The `marginlab` command. The compiled package runs dist/src/cli/main.js with plain Node; tsx is
// registered only so that the user's TypeScript configs and strategies load (ESM or CommonJS
// project alike), when the first of them loads. From the repository's sources, main.ts is loaded
// through tsx.
import { FROM_SOURCE, entryLoaders } from '../util/register-loaders.mjs';

// no top-level await (main.ts says why): the loaders, then the command
void entryLoaders().then(() => import(FROM_SOURCE ? './main.ts' : './main.js'));
