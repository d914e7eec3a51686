// Tests run marginlab from its sources: files that Node imports natively inside a test (configs
// loaded through tsx, for instance) resolve `'marginlab'` to src/index.ts, as vitest's own
// resolution does through the alias in vitest.config.ts.
import { register } from 'node:module';

register(new URL('../src/util/source-condition.mjs', import.meta.url));
