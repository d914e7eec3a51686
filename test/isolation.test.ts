/**
 * Run isolation (src/shard/isolation.ts): a run's results depend only on its own spec, whatever
 * other strategies do to the shared realm of their worker; errors go to the run that caused them;
 * async callbacks are errors; strategy output never reaches stdout (the --json stream).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, resultFiles, runCli, writeConfig } from './fixtures/run/cli.js';
import type { RunResult } from '../src/shard/types.js';
import { RealmGuard } from '../src/shard/isolation.js';
import { loadConfig } from '../src/config/index.js';
import { checkSync } from '../src/engine/runner-state.js';

const ISOLATION_STRATEGIES = resolve(import.meta.dirname, 'fixtures', 'isolation', 'strategies');
let dir: string;
const base = { name: 'iso', data: './data', workers: 1, leverage: [3], strategyDirs: [FIXTURE_STRATEGIES, ISOLATION_STRATEGIES] };
const trend = { name: 'fixture-trend', grid: { lookback: [4, 6, 8, 12, 16, 24] } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-iso-'));
  await makeDataset(join(dir, 'data'), { bars: 300, seed: 5 });
});

describe('one worker shared by hostile strategies', () => {
  it('innocent runs are byte-identical to a clean sweep; each fault is the run of the strategy that made it', async () => {
    writeConfig(dir, 'all.config.ts', { ...base, strategies: [trend, 'tamper-math', { name: 'stray-timer', grid: { mode: ['timer', 'microtask', 'log'] } }, 'async-bar'] });
    writeConfig(dir, 'clean.config.ts', { ...base, strategies: [trend] });
    const [all, clean] = await Promise.all([runCli(['run', '-c', 'all.config.ts', '--out', 'all', '--json'], dir), runCli(['run', '-c', 'clean.config.ts', '--out', 'clean', '--quiet'], dir)]);
    expect(clean.code).toBe(0);
    expect(all.code).toBe(1);
    // stdout is the JSON stream only; strategy output went to stderr
    for (const line of all.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(all.stderr).toContain('STRATEGY-LOG on stdout?');
    expect(all.stderr).toContain('STRATEGY-WRITE on stdout?');
    expect(all.stderr).toContain('STRATEGY_TABLE_AT_LOAD');
    expect(all.stderr).toContain('STRATEGY-DIR at load');
    const res = resultFiles(join(dir, 'all')).map((f) => JSON.parse(readFileSync(join(dir, 'all', 'results', f), 'utf8')) as RunResult);
    const by = (s: string) => res.filter((r) => r.spec.strategy === s);
    for (const r of by('tamper-math')) expect(r).toMatchObject({ status: 'errored', error: expect.stringMatching(/^strategy changed shared built-ins \(.*Math\.sqrt.*\): strategies must not modify built-in objects/) });
    for (const r of by('async-bar')) expect(r.error).toMatch(/onBar returned a Promise: strategy callbacks are synchronous/);
    const stray = by('stray-timer');
    expect(stray.filter((r) => r.spec.params.mode === 'microtask').every((r) => /threw after its callback returned: stray microtask/.test(r.error ?? ''))).toBe(true);
    // the timer is cancelled when its run ends: it never fires into another run
    expect(stray.filter((r) => r.spec.params.mode !== 'microtask').every((r) => r.status === 'ok')).toBe(true);
    expect(all.stderr).not.toContain('stray timer fired');
    // every fixture-trend run equals the clean sweep's, byte for byte
    const cleanFiles = resultFiles(join(dir, 'clean'));
    expect(cleanFiles).toHaveLength(12);
    for (const f of cleanFiles) expect(readFileSync(join(dir, 'all', 'results', f), 'utf8')).toBe(readFileSync(join(dir, 'clean', 'results', f), 'utf8'));
  });

  it('process.kill(process.pid) in a strategy errors its own runs; the other runs finish as in a clean sweep (the signal stopped the whole sweep as a Ctrl-C: exit 130, no run finished, on every --resume alike)', async () => {
    writeConfig(dir, 'kill.config.ts', { ...base, strategies: ['self-kill', trend] });
    writeConfig(dir, 'kill-clean.config.ts', { ...base, strategies: [trend] });
    const [r, clean] = await Promise.all([runCli(['run', '-c', 'kill.config.ts', '--out', 'kill', '--quiet'], dir), runCli(['run', '-c', 'kill-clean.config.ts', '--out', 'kill-clean', '--quiet'], dir)]);
    expect(clean.code).toBe(0);
    expect(r.code).toBe(1);
    const res = resultFiles(join(dir, 'kill')).map((f) => JSON.parse(readFileSync(join(dir, 'kill', 'results', f), 'utf8')) as RunResult);
    const killers = res.filter((x) => x.spec.strategy === 'self-kill');
    expect(killers).toHaveLength(2);
    for (const x of killers) expect(x.error).toMatch(/^strategy threw: Error: process\.kill\(process\.pid\) would signal marginlab's own process.*self-kill\.ts:\d+:\d+\)$/);
    const cleanFiles = resultFiles(join(dir, 'kill-clean'));
    expect(cleanFiles).toHaveLength(12);
    for (const f of cleanFiles) expect(readFileSync(join(dir, 'kill', 'results', f), 'utf8')).toBe(readFileSync(join(dir, 'kill-clean', 'results', f), 'utf8'));
  });

  it('a promise rejected after the callback returned with a proxy whose traps throw: that run errors saying so (was the trap\'s own message, "proxy trap ran")', async () => {
    writeConfig(dir, 'proxy.config.ts', { ...base, strategies: [{ name: 'stray-timer', params: { mode: 'proxy' } }] });
    const r = await runCli(['run', '-c', 'proxy.config.ts', '--out', 'proxy', '--quiet'], dir);
    expect(r.code).toBe(1);
    const res = resultFiles(join(dir, 'proxy')).map((f) => JSON.parse(readFileSync(join(dir, 'proxy', 'results', f), 'utf8')) as RunResult);
    expect(res.length).toBeGreaterThan(0);
    for (const x of res) expect(x.error).toMatch(/^strategy code threw after its callback returned: unhandled promise rejection: an object value that cannot be shown as text/);
  });

  it('a strategy changing built-ins when its module loads is a config error (78) naming the file', async () => {
    writeConfig(dir, 'load.config.ts', { ...base, strategies: ['fixture-trend', 'tamper-load'] });
    const r = await runCli(['run', '-c', 'load.config.ts', '--out', 'load', '--quiet'], dir);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/tamper-load\.ts\): when its module loaded, the strategy changed shared built-ins \(Math\.log\)/);
  });

  it('a config that imports such a strategy (itself, through a module of its own, from .ts, .mjs and .cjs): 78 naming the strategy file, by the CLI and loadConfig (the config\'s import evaluated it first, so the registry\'s check saw nothing and every run failed in the worker, exit 1)', async () => {
    const tamper = join(ISOLATION_STRATEGIES, 'tamper-load.ts');
    const cfg = JSON.stringify({ ...base, strategies: ['fixture-trend'] });
    writeFileSync(join(dir, 'tamper-helper.ts'), `export { default } from ${JSON.stringify(tamper)};\n`);
    writeFileSync(join(dir, 'direct.config.ts'), `import t from ${JSON.stringify(tamper)};\nvoid t;\nexport default ${cfg};\n`);
    writeFileSync(join(dir, 'helper.config.ts'), `import t from './tamper-helper.ts';\nvoid t;\nexport default ${cfg};\n`);
    writeFileSync(join(dir, 'js.config.mjs'), `import ${JSON.stringify(pathToFileURL(tamper).href)};\nexport default ${cfg};\n`);
    writeFileSync(join(dir, 'cjs.config.cjs'), `require(${JSON.stringify(tamper)});\nmodule.exports = ${cfg};\n`);
    const configs = ['direct.config.ts', 'helper.config.ts', 'js.config.mjs', 'cjs.config.cjs'];
    const outs = await Promise.all(configs.map((c) => runCli(['run', '-c', c, '--out', `o-${c}`, '--quiet'], dir)));
    const said = (c: string, t = tamper) => `${c}: while the config's code ran, ${t} changed shared built-ins (Math.log): configs, strategies and the modules they import must not modify built-in objects (they are shared with other runs); the change was undone`;
    configs.forEach((c, i) => {
      expect(outs[i]!.stderr, c).toBe(`marginlab: ${said(c)}\n`);
      expect(outs[i]!.code, c).toBe(78);
    });
    // the library: the same (through tsImport; the files named relative to the working folder), the realm put back
    const log = Math.log;
    await expect(loadConfig(join(dir, 'direct.config.ts'))).rejects.toMatchObject({ exitCode: 78, message: said(join(dir, 'direct.config.ts'), relative(process.cwd(), tamper)) });
    expect(Math.log).toBe(log);
    // the config's own code, and a change no function's source names
    writeFileSync(join(dir, 'own.config.ts'), `Math.random = () => 4;\nexport default ${cfg};\n`);
    writeFileSync(join(dir, 'added.config.ts'), `export default () => { (Math as unknown as { x: number }).x = 1; return ${cfg}; };\n`);
    await expect(loadConfig(join(dir, 'own.config.ts'))).rejects.toThrow(/own\.config\.ts: while the config's code ran, the config changed shared built-ins \(Math\.random\)/);
    await expect(loadConfig(join(dir, 'added.config.ts'))).rejects.toThrow(/added\.config\.ts: while the config's code ran, the config \(its code or a module it imports\) changed shared built-ins \(Math\.x \(added\)\)/);
    expect(Object.hasOwn(Math, 'x')).toBe(false);
  });
});

describe('RealmGuard and synchronous callbacks (unit)', () => {
  it('finds and undoes changes to intrinsics and prototypes, NaN-safe', () => {
    const g = new RealmGuard();
    expect(g.restore()).toEqual([]);
    expect(Object.is(NaN, Number.NaN)).toBe(true);
    const sqrt = Math.sqrt;
    const push = Array.prototype.push;
    Math.sqrt = () => 42;
    (Array.prototype as unknown as Record<string, unknown>).evil = 1;
    Array.prototype.push = function () { return 0; };
    // restore() itself must not depend on what it restores
    Object.defineProperty(Array.prototype, '0', { set() {}, configurable: true });
    Map.prototype.has = () => true;
    const changed = g.restore();
    expect(changed.sort()).toEqual(['Array.prototype.0 (added)', 'Array.prototype.evil (added)', 'Array.prototype.length', 'Array.prototype.push', 'Map.prototype.has', 'Math.sqrt']);
    expect(Math.sqrt).toBe(sqrt);
    expect(Array.prototype.push).toBe(push);
    expect('evil' in Array.prototype).toBe(false);
  });
  it('restore(newValues) gives what the changed keys held, reading own descriptor fields only (an Object.prototype getter named get or value is never run)', () => {
    const g = new RealmGuard();
    const sqrt = Math.sqrt;
    const mine = (x: number) => x;
    let ran = 0;
    Math.sqrt = mine;
    // (null-prototype descriptors: each one defined makes a plain object's inherited field of that name a trap)
    for (const k of ['get', 'set', 'value']) Object.defineProperty(Object.prototype, k, Object.assign(Object.create(null) as PropertyDescriptor, { get: () => (ran++, 'trap'), configurable: true }));
    const held: unknown[] = [];
    const changed = g.restore(held);
    expect(ran).toBe(0);
    expect(held).toContain(mine);
    expect(changed).toEqual(expect.arrayContaining(['Math.sqrt', 'Object.prototype.get (added)', 'Object.prototype.value (added)']));
    expect(Math.sqrt).toBe(sqrt);
    expect(Object.hasOwn(Object.prototype, 'get')).toBe(false);
  });

  it('undoes a change of Error.stackTraceLimit or Error.prepareStackTrace without reporting it (they were left as changed: the stack, and so the location, of every later run\'s error followed them)', () => {
    const g = new RealmGuard();
    const limit = Error.stackTraceLimit;
    const had = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
    Error.stackTraceLimit = 0;
    (Error as unknown as { prepareStackTrace: unknown }).prepareStackTrace = () => 'nothing here';
    expect(g.restore()).toEqual([]);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace')).toEqual(had);
    expect(new Error('x').stack).toMatch(/isolation\.test\.ts/);
  });

  it('an Error.stackTraceLimit made non-configurable cannot be put back: reported as such (it was left as it was, silently, for every later pass of the worker)', () => {
    // in a process of its own: the property stays non-configurable there for good
    const guard = pathToFileURL(resolve(import.meta.dirname, '..', 'src', 'shard', 'isolation.ts')).href;
    const script = `const { RealmGuard } = await import(${JSON.stringify(guard)}); const g = new RealmGuard(); Object.defineProperty(Error, 'stackTraceLimit', { value: 0, writable: false, configurable: false }); process.stdout.write(JSON.stringify(g.restore()));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['Error.stackTraceLimit (cannot be undone)']);
  });

  it('finds a change of a property\'s attributes or kind with the same value, and undoes it', () => {
    const g = new RealmGuard();
    const before = (o: object, k: PropertyKey) => Object.getOwnPropertyDescriptor(o, k);
    const max = Math.max;
    const cases: [string, object, PropertyKey, PropertyDescriptor][] = [
      ['Math.sqrt', Math, 'sqrt', { value: Math.sqrt, writable: false }], // writable flipped, same value
      ['Array.prototype.map', Array.prototype, 'map', { enumerable: true }],
      ['Object.keys', Object, 'keys', { writable: false, enumerable: true }],
      ['Math.max', Math, 'max', { get: () => max }], // data → accessor, the same value read
      ['Map.prototype.size', Map.prototype, 'size', { value: undefined, writable: true }], // accessor → data
      ['Map.prototype.size', Map.prototype, 'size', { set: () => undefined }], // a setter added to the getter
    ];
    for (const [name, o, k, change] of cases) {
      const was = before(o, k)!;
      Object.defineProperty(o, k, change);
      expect(g.restore()).toEqual([name]);
      expect(before(o, k)).toEqual(was);
      expect(g.restore()).toEqual([]);
    }
  });
  it('a callback returning a promise throws; a plain return value passes', () => {
    expect(() => checkSync(undefined, 'onBar')).not.toThrow();
    expect(() => checkSync(1, 'onBar')).not.toThrow();
    expect(() => checkSync({ then: 1 }, 'onBar')).not.toThrow();
    const rejected = Promise.reject(new Error('x'));
    expect(() => checkSync(rejected, 'onFill')).toThrow(/onFill returned a Promise: strategy callbacks are synchronous/);
  });
});

describe('the shared columns stay out of reach of strategies', () => {
  it('neither the worker data (node:worker_threads, piscina) nor a built-in replaced for a moment hands a strategy the columns', async () => {
    const via = ['workerData', 'piscina', 'lengthGetter', 'arrayMap', 'arrayMapResult', 'arrayIterator'];
    writeConfig(dir, 'peek.config.ts', { ...base, setups: ['isolated', 'cross'], strategies: [{ name: 'peek-future', grid: { via } }] });
    const r = await runCli(['run', '-c', 'peek.config.ts', '--out', 'peek', '--quiet'], dir);
    const res = resultFiles(join(dir, 'peek')).map((f) => JSON.parse(readFileSync(join(dir, 'peek', 'results', f), 'utf8')) as RunResult);
    expect(res).toHaveLength(via.length * 2);
    expect(res.filter((x) => x.status !== 'ok').map((x) => `${String(x.spec.params.via)}: ${x.error}`)).toEqual([]);
    expect(r.code).toBe(0);
  });
});

describe("marginlab's shared tables", () => {
  it('a strategy cannot change the metric definitions, the indicators, the crash pack, the context\'s or the account\'s classes or the tier tables for itself or later runs (a replaced Object.getPrototypeOf(ctx).buy made the later runs trade nothing)', async () => {
    const { METRICS } = await import('../src/analysis/index.js');
    const { indicators, Sma } = await import('../src/strategy/indicators.js');
    const { CRASH_PACK } = await import('../src/stress/pack.js');
    for (const o of [METRICS, METRICS[0], METRICS[0]!.tags, indicators, Sma, Sma.prototype, CRASH_PACK, CRASH_PACK[0]]) expect(Object.isFrozen(o)).toBe(true);
    const { EngineContext } = await import('../src/engine/context.js');
    const { LookAheadError } = await import('../src/strategy/types.js');
    const { createAccount } = await import('../src/account/index.js');
    const { getVenue } = await import('../src/venue/index.js');
    const { SeriesPool } = await import('../src/engine/index.js');
    const { ExitCode, UserError } = await import('../src/errors.js');
    const acct = createAccount({ venue: getVenue('binance-usdm'), symbols: ['AAAUSDT'], initialDeposit: '1', defaultMode: 'cross', leverage: 1, asOfMs: 0 });
    const shared = [EngineContext, EngineContext.prototype, LookAheadError, LookAheadError.prototype, Object.getPrototypeOf(acct), getVenue('binance-usdm').tiers('AAAUSDT', 0)[0], SeriesPool.prototype, ExitCode, UserError.prototype];
    for (const o of shared) expect(Object.isFrozen(o)).toBe(true);
    writeConfig(dir, 'tables.config.ts', { ...base, strategies: ['tamper-library', trend] });
    writeConfig(dir, 'tables-clean.config.ts', { ...base, strategies: [trend] });
    const [r, clean] = await Promise.all([runCli(['run', '-c', 'tables.config.ts', '--out', 'tables', '--quiet'], dir), runCli(['run', '-c', 'tables-clean.config.ts', '--out', 'tables-clean', '--quiet'], dir)]);
    expect([r.code, clean.code]).toEqual([0, 0]);
    const res = resultFiles(join(dir, 'tables')).map((f) => JSON.parse(readFileSync(join(dir, 'tables', 'results', f), 'utf8')) as RunResult);
    const own = res.find((x) => x.spec.strategy === 'tamper-library')!;
    expect(own.status).toBe('ok');
    expect(own.metrics.totalReturn).not.toBe(12345);
    expect(Object.keys(own.metrics)).not.toContain('injected');
    for (const f of resultFiles(join(dir, 'tables-clean'))) expect(readFileSync(join(dir, 'tables', 'results', f), 'utf8')).toBe(readFileSync(join(dir, 'tables-clean', 'results', f), 'utf8'));
  });
});
