import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // the library strategies import from 'marginlab' like user code: here that is src/index.ts
    alias: [{ find: /^marginlab$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup-source-condition.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // one test file at a time (vitest 4's default on 2 cores): two at a time (maxWorkers 2, stop 58) saved little in the
    // VM's slow phase (1,064 s against ≈ 1,100 s) and made a run under a 1 s timeoutMs of test/time-limit time out
  },
});
