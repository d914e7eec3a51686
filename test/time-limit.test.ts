/**
 * The time limit on user code the CLI runs on its main thread before a sweep (src/util/time-limit.ts):
 * a config file's top-level code, function or top-level await, and a strategy's module, params
 * schema and symbols(params). Each used to hang the command for ever (neither Ctrl-C nor SIGTERM
 * could end it); now the code is stopped at the limit, the command prints one line naming what ran
 * too long and the setting that limits it, gives back its output folder, and exits 78.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { REPO, startCli, writeConfig } from './fixtures/run/cli.js';

const STRATS = join(REPO, 'test', 'fixtures', 'time-limit');
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marginlab-time-limit-'));
  await makeDataset(join(dir, 'data'), { bars: 60 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (strategy: string, extra: Record<string, unknown> = {}) => ({
  name: 'tl',
  data: './data',
  strategies: [{ name: strategy }],
  strategyDirs: [STRATS],
  setups: ['isolated'],
  leverage: [3],
  initialCapital: 10_000,
  timeoutMs: 1500,
  ...extra,
});

async function run(args: string[], env: Record<string, string> = {}) {
  const t0 = Date.now();
  const r = await startCli(args, dir, { env }).done;
  return { ...r, ms: Date.now() - t0 };
}

// the commands of a describe.concurrent run side by side: most of each is waiting (for a limit, a
// watchdog's retries), and the bounds below are far above a command's time on a loaded machine
describe.concurrent('user code on the CLI main thread runs under a time limit', () => {
  it.each([
    ['loop-symbols', 'symbols(params)'],
    ['loop-top', 'loading its module (its top-level code)'],
    ['loop-schema', 'its params schema'],
  ])('a strategy whose %s never returns: exit 78 at timeoutMs, one line, no output folder left', async (name, what) => {
    writeConfig(dir, `${name}.config.mjs`, config(name));
    const out = join(dir, `out-${name}`);
    const r = await run(['run', '-c', `${name}.config.mjs`, '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(78);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`strategy '${name}' (strategies[0]): ${what} ran for more than 1.5 s (timeoutMs) without returning`);
    expect(r.stderr).not.toMatch(/debugger|at .*\.ts:\d+/);
    // the folder the command made (and its lock) is gone again
    expect(existsSync(out)).toBe(false);
    // stopped near the limit, not after the default of 10 minutes (generous for a loaded machine)
    expect(r.ms).toBeLessThan(60_000);
  });

  it('a strategy blocked in a call that does not return to JavaScript (a synchronous child process): killed after the retries, one line naming it', async () => {
    writeConfig(dir, 'blocked.config.mjs', config('blocked-symbols'));
    const mark = join(dir, 'blocked-started');
    const r = await run(['run', '-c', 'blocked.config.mjs', '--out', join(dir, 'out-blocked'), '--quiet'], { MARGINLAB_TEST_BLOCKED_MARK: mark });
    const ended = Date.now();
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^marginlab: strategy 'blocked-symbols' \(strategies\[0\]\): symbols\(params\) ran for more than 1\.5 s \(timeoutMs\) without returning, and it could not be stopped: it waits in a call that does not return to JavaScript/),
    ]);
    // before the child's 25 s, counted from the call (the command's own start-up before it is the machine's, several seconds when loaded)
    expect(ended - Number(readFileSync(mark, 'utf8'))).toBeLessThan(24_000);
  }, 60_000);

  it('a plan of 100,000 runs whose building takes longer than timeoutMs (each call of the strategy quick) is not stopped', async () => {
    // 100,000 runs: building, hashing and recording the plan take several times the 2.5 s limit (planMs ≈ 7 s on the
    // 2-core machine); the limit is 2.5 s, not 1 s, so that the shard's five quick runs (≈ 50 ms each) stay under it on a
    // loaded machine (at a load average of 12, 1 s stopped four of them)
    writeConfig(dir, 'grid.config.mjs', {
      ...config('quick-grid', { timeoutMs: 2500, maxRuns: 1_000_000, leverage: [2, 3, 4, 5, 6] }),
      strategies: [{ name: 'quick-grid', grid: { k: { from: 1, to: 10_000, step: 1 }, symbol: ['AAAUSDT', 'BBBUSDT'] } }],
    });
    const t0 = Date.now();
    const r = await run(['run', '-c', 'grid.config.mjs', '--out', join(dir, 'out-grid'), '--quiet', '--shard', '1/20000']);
    expect(r.code, r.stderr).toBe(0);
    // the plan took longer than the limit (else this test shows nothing): the manifest's own figure, not the command's
    // wall time (which counts its start-up and the sweep too)
    expect(Date.now() - t0).toBeGreaterThan(3000);
    const manifest = JSON.parse(readFileSync(join(dir, 'out-grid', 'manifest.json'), 'utf8')) as { timings: { planMs: number } };
    expect(manifest.timings.planMs).toBeGreaterThan(2500);
  });

  it('a strategy that is only slow (300 ms in symbols) is planned and runs', async () => {
    writeConfig(dir, 'slow.config.mjs', config('slow-symbols'));
    const r = await run(['run', '-c', 'slow.config.mjs', '--out', join(dir, 'out-slow'), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'out-slow', 'manifest.json'))).toBe(true);
  });

  it('code that replaces Atomics.compareExchange (a strategy, a config) and returns at once: the run goes on, or the config is refused at once (it hung until the limit, then was killed)', async () => {
    writeConfig(dir, 'tamper.config.mjs', config('tamper-atomics', { timeoutMs: 600_000 }));
    writeFileSync(join(dir, 'tamperc.config.mjs'), `Atomics.compareExchange = () => 0;\nexport default ${JSON.stringify(config('slow-symbols'))};\n`);
    for (const c of ['tamper.config.mjs', 'tamperc.config.mjs']) {
      const out = join(dir, `out-${c}`);
      // the config's limit far above the bound (a hang until it shows), the bound far above a run on a loaded machine
      const r = await run(['run', '-c', c, '--out', out, '--quiet'], { MARGINLAB_CONFIG_TIMEOUT_MS: '100000' });
      if (c === 'tamperc.config.mjs') {
        // a config changing shared built-ins is refused, the change undone (src/config guardConfigCode)
        expect(r.stderr).toMatch(/^marginlab: tamperc\.config\.mjs: while the config's code ran, the config changed shared built-ins \(Atomics\.compareExchange\)/);
        expect(r.code).toBe(78);
      } else {
        expect(r.code, r.stderr).toBe(0);
        expect(existsSync(join(out, 'manifest.json'))).toBe(true);
      }
      // not after the config's 100 s (nor the strategy's 600 s)
      expect(r.ms).toBeLessThan(90_000);
    }
  }, 240_000);

  it('a config whose top-level code never ends: exit 78 naming the file and MARGINLAB_CONFIG_TIMEOUT_MS', async () => {
    writeFileSync(join(dir, 'top.config.mjs'), `let n = 0;\nwhile (Date.now() > 0) n++;\nexport default ${JSON.stringify(config('slow-symbols'))};\n`);
    const r = await run(['run', '-c', 'top.config.mjs', '--out', join(dir, 'out-top'), '--quiet'], { MARGINLAB_CONFIG_TIMEOUT_MS: '1000' });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^marginlab: top\.config\.mjs: the config file's top-level code ran for more than 1 s \(MARGINLAB_CONFIG_TIMEOUT_MS\) without returning, so marginlab stopped it: .*MARGINLAB_CONFIG_TIMEOUT_MS/),
    ]);
    expect(existsSync(join(dir, 'out-top'))).toBe(false);
  });

  it('a config whose top-level await waits for ever (a timer keeps the process alive): exit 78', async () => {
    writeFileSync(join(dir, 'tla.config.mjs'), `setInterval(() => {}, 1000);\nawait new Promise(() => {});\nexport default {};\n`);
    const r = await run(['run', '-c', 'tla.config.mjs', '--quiet'], { MARGINLAB_CONFIG_TIMEOUT_MS: '1000' });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain("tla.config.mjs: the config file's top-level code ran for more than 1 s");
  });

  it('a config whose top-level await waits on nothing: exit 78 at once (not at the limit)', async () => {
    writeFileSync(join(dir, 'idle.config.mjs'), `await new Promise(() => {});\nexport default {};\n`);
    // the limit far above the bound, the bound far above a command's start on a loaded machine
    const r = await run(['run', '-c', 'idle.config.mjs', '--quiet'], { MARGINLAB_CONFIG_TIMEOUT_MS: '100000' });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      "marginlab: idle.config.mjs: the config file's top-level code waits for something that never comes (a promise nothing left in the process can settle), so marginlab stopped it",
    ]);
    expect(r.ms).toBeLessThan(90_000);
  });

  it("a config function that never returns: exit 78 naming the config's function", async () => {
    writeFileSync(join(dir, 'fn.config.mjs'), `export default () => { for (;;) {} };\n`);
    const r = await run(['run', '-c', 'fn.config.mjs', '--quiet'], { MARGINLAB_CONFIG_TIMEOUT_MS: '1000' });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain("fn.config.mjs: the config's function ran for more than 1 s");
  });

  it.each([
    ['then', "export default { then() { for (;;) {} } };", "reading the config's default export"],
    ['proxy', 'export default new Proxy({}, { get() { for (;;) {} } });', "reading the config's default export"],
    ['async-fn', 'export default async () => { await new Promise((r) => setTimeout(r, 50)); for (;;) {} };', "the config's promise"],
    ['getter', "export default { get name() { for (;;) {} }, data: './data', strategies: ['x'] };", "reading the config's values (its getters)"],
  ])('config code run after its top level (%s: a thenable, a proxy, a promise\'s continuation, a getter) that never returns: exit 78', async (name, text, what) => {
    writeFileSync(join(dir, `${name}.config.mjs`), `${text}\n`);
    const r = await run(['run', '-c', `${name}.config.mjs`, '--out', join(dir, `out-${name}`), '--quiet'], { MARGINLAB_CONFIG_TIMEOUT_MS: '1000' });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(`marginlab: ${name}.config.mjs: ${what} ran for more than 1 s (MARGINLAB_CONFIG_TIMEOUT_MS) without returning`)]);
    expect(r.ms).toBeLessThan(60_000);
  });

  it('`marginlab strategies` stops a strategy file whose top level never ends (the config\'s timeoutMs)', async () => {
    writeConfig(dir, 'list.config.mjs', config('loop-top'));
    const r = await run(['strategies', '-c', 'list.config.mjs']);
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain(`strategy 'loop-top' (${join(STRATS, 'loop-top.ts')}): loading its module (its top-level code) ran for more than 1.5 s (timeoutMs of list.config.mjs)`);
  });

  it('`marginlab strategies` stops a params schema whose default never returns while it lists the defaults', async () => {
    const listDir = join(STRATS, 'list-schema');
    writeConfig(dir, 'defaults.config.mjs', config('loop-defaults', { strategyDirs: [listDir] }));
    const r = await run(['strategies', '-c', 'defaults.config.mjs']);
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringContaining(`marginlab: strategy 'loop-defaults' (${join(listDir, 'loop-defaults.ts')}): its params schema ran for more than 1.5 s (timeoutMs of defaults.config.mjs) without returning`),
    ]);
  });

  it('a JSON config (no config code, so tsx is registered when the first strategy loads): the registration does not count to timeoutMs', async () => {
    // it did: 0.3-0.5 s of tsx's set-up were the strategy module's top-level code, over a 200 ms limit
    const cfg = { ...config('quick-js', { strategyDirs: [join(STRATS, 'quick-js')], timeoutMs: 200 }) };
    writeFileSync(join(dir, 'quick.config.json'), JSON.stringify(cfg));
    const r = await run(['strategies', '-c', 'quick.config.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('quick-js');
  });

  it("strategies: 'all' names the strategy file whose top level never ends", async () => {
    writeConfig(dir, 'all.config.mjs', config('loop-top', { strategies: 'all' }));
    const r = await run(['run', '-c', 'all.config.mjs', '--out', join(dir, 'out-all'), '--quiet']);
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain(`strategy 'loop-top' (${join(STRATS, 'loop-top.ts')}): loading its module (its top-level code) ran for more than 1.5 s (timeoutMs)`);
  });
});

describe.concurrent('what the config or a strategy leaves running does not keep a finished command alive', () => {
  it.each([
    ['a config', 'ival', 'slow-symbols', 'setInterval(() => {}, 1000);\n'],
    ['a strategy module', 'ival-strategy', 'interval-top', ''],
  ])('%s with a setInterval at its top level: run ends with its own exit code once the sweep is done', async (_, name, strategy, top) => {
    writeFileSync(join(dir, `${name}.config.mjs`), `${top}export default ${JSON.stringify(config(strategy))};\n`);
    const { child, done } = startCli(['run', '-c', `${name}.config.mjs`, '--out', join(dir, `out-${name}`), '--quiet'], dir);
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const t0 = Date.now();
    const r = await done;
    clearTimeout(kill);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, `out-${name}`, 'manifest.json'))).toBe(true);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});

describe('timers the config or a strategy leaves on the main thread', () => {
  // a timer's callback that never returns hung the command for ever: during the sweep, or after its line was printed
  // (8 s: after the plan on a loaded machine too; the command ends, cancelled or not, within 1 s of its work)
  it.each([
    ['a config', 'stray-config', 'slow-symbols', 'setTimeout(() => { for (;;); }, 8000).unref();\n', 'stray-config.config.mjs:1'],
    ['a strategy module', 'stray-strategy', 'timer-top', '', 'timer-top.ts:5'],
  ])('%s: a timer still to come after the plan is cancelled, said in the manifest, and the run ends 0', async (_, name, strategy, top, where) => {
    writeFileSync(join(dir, `${name}.config.mjs`), `${top}export default ${JSON.stringify(config(strategy))};\n`);
    const out = join(dir, `out-${name}`);
    const { child, done } = startCli(['run', '-c', `${name}.config.mjs`, '--out', out, '--quiet'], dir);
    const kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const r = await done;
    clearTimeout(kill);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { warnings?: string[] };
    expect(manifest.warnings).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`left 1 timer on the main thread \\(started at .*${where.replace('.', '\\.')}\\): cancelled`))]));
  }, 120_000);

  it('a timer whose callback never returns before the plan is ended at the limit with one line naming where it was started (a native stack before)', async () => {
    writeFileSync(join(dir, 'zero.config.mjs'), `setTimeout(() => { for (;;); }, 0);\nexport default ${JSON.stringify(config('slow-symbols'))};\n`);
    const r = await run(['run', '-c', 'zero.config.mjs', '--out', join(dir, 'out-zero'), '--quiet'], { MARGINLAB_CONFIG_TIMEOUT_MS: '1000' });
    expect(r.signal ?? r.code).not.toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^marginlab: a timer started at .*zero\.config\.mjs:1 ran for more than 1 s \(MARGINLAB_CONFIG_TIMEOUT_MS\) without returning, and it runs in a timer callback/);
    expect(r.stderr).not.toMatch(/Native stack|async hook/);
    expect(r.ms).toBeLessThan(60_000);
  }, 120_000);
});

/** `code` as an ES module in a node with tsx: its exit status (null when killed at `timeout` ms) and output; not spawnSync, which would hold up the tests running beside it */
function node(code: string, timeout = 0): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, encoding: 'utf8', timeout }, (e, stdout, stderr) => {
      res({ status: e === null ? 0 : typeof e.code === 'number' ? e.code : null, stdout, stderr });
    });
  });
}

describe.concurrent('withTimeLimit as a library function', () => {
  it('is off unless the CLI turns it on: a program that loads a config keeps its own process', async () => {
    // a child process: enabling the limits is process-wide
    const code = `
      const { withTimeLimit } = await import(${JSON.stringify(join(REPO, 'src', 'util', 'time-limit.ts'))});
      const t = Date.now();
      const v = await withTimeLimit({ ms: 200, key: 'k' }, 'spin', async () => { while (Date.now() - t < 600); return 7; });
      console.log(JSON.stringify({ v }));
    `;
    const r = await node(code);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ v: 7 });
  });

  it('once on, returns what the code returns within the limit and does not keep the process alive', async () => {
    const code = `
      const { enableTimeLimits, withTimeLimit } = await import(${JSON.stringify(join(REPO, 'src', 'util', 'time-limit.ts'))});
      enableTimeLimits(() => { console.log('expired'); process.exit(78); });
      const a = await withTimeLimit({ ms: 300_000, key: 'k' }, 'quick', async () => 1);
      const b = await withTimeLimit({ ms: 300_000, key: 'k' }, 'quick', async () => { throw new Error('thrown'); }).catch((e) => e.message);
      console.log(JSON.stringify({ a, b }));
    `;
    const t0 = Date.now();
    // (a process kept alive by the timers is killed at 90 s)
    const r = await node(code, 90_000);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ a: 1, b: 'thrown' });
    // the armed 300 s timers did not keep the process alive (the bound far from both: a loaded machine's start-up of tsx is seconds)
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('guards one after the other share one watchdog thread (one started per guard cost ≈ 50 ms of CPU, 6 per run), and its limit still stops a loop', async () => {
    const code = `
      const { Worker } = await import('node:worker_threads');
      const { enableTimeLimits, withTimeLimit } = await import(${JSON.stringify(join(REPO, 'src', 'util', 'time-limit.ts'))});
      // threads get ids in the order they start: a probe's id says how many started since the last probe
      const probe = () => { const w = new Worker('', { eval: true }); const id = w.threadId; void w.terminate(); return id; };
      let started = -1;
      enableTimeLimits((what, limit, reason) => { console.log(JSON.stringify({ started, what, limit, reason })); process.exit(78); });
      const p0 = probe();
      for (let i = 0; i < 5; i++) await withTimeLimit({ ms: 300_000, key: 'k' }, 'quick ' + i, async () => i);
      started = probe() - p0 - 1;
      // the same thread, its earlier (300 s) timers cleared, stops this one at its own limit
      await withTimeLimit({ ms: 300, key: 'loopKey' }, 'spin', async () => { for (;;) {} });
      console.log('not reached');
    `;
    const r = await node(code, 60_000);
    expect(r.status, r.stderr).toBe(78);
    expect(JSON.parse(r.stdout.trim())).toEqual({ started: 1, what: 'spin', limit: { ms: 300, key: 'loopKey' }, reason: 'limit' });
  });

  it('once on, stops a loop at the limit and calls the handler with what ran and the limit', async () => {
    const code = `
      const { enableTimeLimits, withTimeLimit, nowRunning } = await import(${JSON.stringify(join(REPO, 'src', 'util', 'time-limit.ts'))});
      enableTimeLimits((what, limit, reason) => { console.log(JSON.stringify({ what, limit, reason })); process.exit(78); });
      await withTimeLimit({ ms: 300, key: 'someKey' }, 'first step', async () => { nowRunning('second step'); for (;;) {} });
      console.log('not reached');
    `;
    const r = await node(code, 60_000);
    expect(r.status, r.stderr).toBe(78);
    expect(JSON.parse(r.stdout.trim())).toEqual({ what: 'second step', limit: { ms: 300, key: 'someKey' }, reason: 'limit' });
  });
});
