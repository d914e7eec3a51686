/**
 * resolveStrategy / listStrategies from plain `node` over the compiled package: a TypeScript
 * strategy file used to be refused ("Unknown file extension .ts") because only the CLI registered
 * tsx. The registry now registers it (once) before importing such a file, when marginlab runs
 * compiled; from the sources the entry point has done it. (test/package.test.ts covers the CLI.)
 */
import { describe, expect, it } from 'vitest';
import { ensureTypeScriptLoader, type LoaderRegistration } from '../src/strategy/registry.js';

const fake = (fromSource: boolean, cli = false) => {
  const calls: string[] = [];
  const registerLoaders = () => {
    calls.push('register');
    return Promise.resolve();
  };
  const reg: LoaderRegistration = { FROM_SOURCE: fromSource, registerLoaders, userCodeLoaders: () => (cli ? registerLoaders().then(() => true) : Promise.resolve(false)) };
  return { calls, loaders: () => Promise.resolve(reg) };
};

describe('ensureTypeScriptLoader', () => {
  it.each(['/p/strategies/a.ts', '/p/strategies/a.mts', '/p/strategies/a.cts', '/p/strategies/A.TS'])('compiled package: registers tsx before %s', async (file) => {
    const f = fake(false);
    expect(await ensureTypeScriptLoader(file, f.loaders)).toBe(true);
    expect(f.calls).toEqual(['register']);
  });

  it.each(['/p/strategies/a.js', '/p/strategies/a.mjs', '/p/strategies/ts'])('a JavaScript file (%s) needs nothing', async (file) => {
    const f = fake(false);
    expect(await ensureTypeScriptLoader(file, f.loaders)).toBe(false);
    expect(f.calls).toEqual([]);
  });

  it.each(['/p/strategies/a.js', '/p/strategies/a.mjs', '/p/strategies/a.ts'])('in the CLI or its workers (compiled): every user module (%s) loads with the loaders', async (file) => {
    const f = fake(false, true);
    expect(await ensureTypeScriptLoader(file, f.loaders)).toBe(true);
    expect(f.calls).toEqual(['register']);
  });

  it('from the sources the entry point registered it: nothing to do', async () => {
    const f = fake(true);
    expect(await ensureTypeScriptLoader('/p/strategies/a.ts', f.loaders)).toBe(false);
    expect(f.calls).toEqual([]);
  });

  it('the real register-loaders module says it runs from the sources here (so tests never register tsx twice)', async () => {
    expect(await ensureTypeScriptLoader('/p/strategies/a.ts')).toBe(false);
  });
});
