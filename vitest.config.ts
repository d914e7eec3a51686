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
    // two test files at a time: vitest 4's default on 2 cores is one (availableParallelism − 1), and most of this suite's
    // time is CLI commands and their worker pools starting up, which leave a core partly idle (stop 58: a full run with two
    // files at a time took 911 s, against ≈ 1,060–1,100 s estimated one at a time in the same phase)
    maxWorkers: 2,
  },
});
