/**
 * Code of the config or a strategy that misbehaves on the CLI's main thread outside any call that
 * catches it (src/util/user-faults.ts): process.exit() ended marginlab silently with the user's exit
 * code (an output folder holding only its lock file); an error thrown in a microtask or a timer, a
 * promise rejected with no handler, a stream's 'error' event with no listener printed Node's stack
 * trace and exited 1. Each is now one line naming the file, exit 78, the output folder left as an
 * interrupt leaves it. Also: what that code writes to stdout goes to stderr (stdout carries --json),
 * and a timer a strategy module's top-level code starts errors the runs saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { REPO, resultFiles, startCli } from './fixtures/run/cli.js';
import type { RunResult } from '../src/shard/types.js';

const STRATS = resolve(import.meta.dirname, 'fixtures', 'user-faults');
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-user-faults-'));
  await makeDataset(join(dir, 'data'), { bars: 60 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (strategy: string, extra: Record<string, unknown> = {}) => ({
  name: 'uf',
  data: './data',
  strategies: [strategy],
  strategyDirs: [STRATS],
  setups: ['isolated'],
  leverage: [3],
  workers: 1,
  timeoutMs: 20_000,
  ...extra,
});

/** `<name>.config.mjs`: `top` (the config's own top-level code), then the config */
function writeCfg(name: string, strategy: string, top = ''): string {
  writeFileSync(join(dir, `${name}.config.mjs`), `${top}export default ${JSON.stringify(config(strategy))};\n`);
  return `${name}.config.mjs`;
}

const run = (args: string[]) => startCli(args, dir).done;

/**
 * one line on stderr (after what the user's code wrote there itself), no Node stack trace, exit 78, no output folder
 * left; `async`: a fault Node raises a moment later (a stream's error) may come once the sweep started, and then
 * leaves the folder as an interrupt does (its finished results kept for --resume, said so)
 */
function refused(r: { code: number | null; stderr: string }, out: string | null, async = false): string {
  expect(r.code, r.stderr).toBe(78);
  const ours = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('marginlab:'));
  expect(ours, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at |Node\.js v|internal error/);
  if (out !== null && !(async && existsSync(join(dir, out)))) expect(existsSync(join(dir, out))).toBe(false);
  if (out !== null && existsSync(join(dir, out))) expect(ours[0]).toMatch(/; finished results are kept in .*results \(finish with `npx marginlab run --resume/);
  return ours[0]!;
}

describe.concurrent('process.exit() in the code of a config or a strategy on the main thread', () => {
  it("a strategy module's top-level code (run and strategies): 78 naming the file and line (was exit 0, no output, a folder holding only its lock)", async () => {
    writeFileSync(join(dir, 'exit-top.config.mjs'), `export default ${JSON.stringify(config('exit-top', { strategyDirs: [join(STRATS, 'exit-top')] }))};\n`);
    const [r, list] = await Promise.all([run(['run', '-c', 'exit-top.config.mjs', '--out', 'o-exit-top', '--quiet']), run(['strategies', '--dir', join(STRATS, 'exit-top')])]);
    expect(refused(r, 'o-exit-top')).toMatch(/^marginlab: .*exit-top\.ts:5: strategy 'exit-top' called process\.exit\(0\); the code of a config or a strategy must not end the process/);
    expect(refused(list, null)).toMatch(/exit-top\.ts:5: strategy 'exit-top' called process\.exit\(0\)/);
    expect(list.stdout).toBe('');
  });

  it('symbols(params): 78 naming the file (was exit 3, no report)', async () => {
    const r = await run(['run', '-c', writeCfg('exit-symbols', 'exit-symbols'), '--out', 'o-exit-symbols', '--quiet']);
    expect(refused(r, 'o-exit-symbols')).toMatch(/exit-symbols\.ts:12: strategy 'exit-symbols' called process\.exit\(3\)/);
  });

  it("process.kill(process.pid) in symbols(params) and in the config's top level: 78 naming the file and line (was exit 130, 'interrupted before any run started', as a Ctrl-C)", async () => {
    const [sym, top] = await Promise.all([
      run(['run', '-c', writeCfg('kill-symbols', 'kill-symbols'), '--out', 'o-kill-symbols', '--quiet']),
      run(['run', '-c', writeCfg('kill-top', 'log-symbols', "process.kill(process.pid, 'SIGINT');\n"), '--out', 'o-kill-top', '--quiet']),
    ]);
    expect(refused(sym, 'o-kill-symbols')).toMatch(/kill-symbols\.ts:12: strategy 'kill-symbols' called process\.kill\(process\.pid, "SIGTERM"\), a signal to marginlab's own process; the code of a config or a strategy must not end the process/);
    expect(refused(top, 'o-kill-top')).toMatch(/^marginlab: kill-top\.config\.mjs:1: the config called process\.kill\(process\.pid, "SIGINT"\), a signal to marginlab's own process/);
  });

  it("a timer of the config's (was exit 0, no output)", async () => {
    const r = await run(['run', '-c', writeCfg('exit-timer', 'log-symbols', 'setTimeout(() => process.exit(0), 0);\n'), '--out', 'o-exit-timer', '--quiet']);
    expect(refused(r, 'o-exit-timer')).toMatch(/^marginlab: exit-timer\.config\.mjs:1: the config called process\.exit\(0\)/);
  });
});

describe.concurrent('an error or a rejection no code handles, on the main thread', () => {
  it.each([
    ['reject-top', /reject-top\.ts:5: strategy 'reject-top' left a promise rejected with no handler: top-level rejection in strategy/],
    ['micro-top', /micro-top\.ts:6: strategy 'micro-top' threw outside any call of marginlab's \(in a timer, a microtask or an event listener it started\): microtask threw in strategy module/],
    ['stream-top', /ENOENT: no such file or directory, open '\/nonexistent\/marginlab-user-faults\/signals\.csv'; code that ran on this thread: .*stream-top\.ts \(strategy 'stream-top'\), stream-top\.config\.mjs \(the config\)/],
  ])("a strategy module's top level, %s: 78 naming the file (was Node's stack trace, exit 1)", async (name, line) => {
    const r = await run(['run', '-c', writeCfg(name, name), '--out', `o-${name}`, '--quiet']);
    expect(refused(r, `o-${name}`, /stream/.test(name))).toMatch(line);
  });

  it.each([
    ['config-micro', "queueMicrotask(() => { throw new Error('microtask threw in config'); });\n", /^marginlab: config-micro\.config\.mjs:1: the config threw outside any call of marginlab's .*: microtask threw in config/],
    ['config-stream', "import { createReadStream } from 'node:fs';\ncreateReadStream('/nonexistent/marginlab-user-faults/nope.csv').on('data', () => {});\n", /nope\.csv'; code that ran on this thread: config-stream\.config\.mjs \(the config\)/],
  ])("a config's top level, %s: 78 naming the file", async (name, top, line) => {
    const r = await run(['run', '-c', writeCfg(name, 'log-symbols', top), '--out', `o-${name}`, '--quiet']);
    expect(refused(r, `o-${name}`, /stream/.test(name))).toMatch(line);
  });

  /** the config `<name>.config.mjs` calls startPolling() of a package `<name>` in the test folder's node_modules (index.js: `js`) */
  const packageConfig = (name: string, js: string): string => {
    const pkg = join(dir, 'node_modules', name);
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name, type: 'module', main: 'index.js' }));
    writeFileSync(join(pkg, 'index.js'), js);
    return writeCfg(name, 'log-symbols', `import { startPolling } from '${name}';\nstartPolling();\nawait new Promise((r) => setTimeout(r, 150));\n`);
  };

  it.each([
    // its timer throws (it was marginlab's internal error, 70)
    ['badpkg', "export function startPolling() { setTimeout(() => { throw new Error('badpkg: connection reset'); }, 10); }\n", 'badpkg: connection reset'],
    // its third poll throws, each poll a timer the last one started (only the package's frames on the stack; it was 70)
    ['pollpkg', "let n = 0;\nfunction poll() { if (++n === 3) throw new Error('pollpkg: connection reset on poll 3'); setTimeout(poll, 5); }\nexport function startPolling() { setTimeout(poll, 5); }\n", 'pollpkg: connection reset on poll 3'],
  ])("a timer a package starts for the config throws (%s): 78 naming where the config called it", async (name, js, text) => {
    const r = await run(['run', '-c', packageConfig(name, js), '--out', `o-${name}`, '--quiet']);
    expect(refused(r, `o-${name}`)).toBe(`marginlab: ${name}.config.mjs:2: the config started a timer here (in its own code or a package's it calls) whose callback threw outside any call of marginlab's: ${text}; catch the error in that callback, or handle the package's errors`);
  });

  it("an error of marginlab's own code stays an internal error (70), not the user's", async () => {
    const code = [
      "import { installUserFaultGuards } from './src/util/user-faults.ts';",
      "installUserFaultGuards((err) => { process.stderr.write('internal: ' + err.message + '\\n'); return 70; });",
      "import { shownPath } from './src/util/module-default.ts';",
      // called by the timer itself: the stack holds marginlab's frame and Node's, none of user code
      'setTimeout(shownPath, 0);',
    ].join('\n');
    const r = await new Promise<{ status: number | null; stderr: string }>((res) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, encoding: 'utf8' }, (e, _stdout, stderr) => {
        res({ status: e === null ? 0 : typeof e.code === 'number' ? e.code : null, stderr });
      });
    });
    expect(r.status).toBe(70);
    expect(r.stderr).toMatch(/^internal: The "path" argument must be of type string/);
  });
});

describe('what user code on the main thread writes to stdout', () => {
  it('goes to stderr: run --json prints JSON lines only (the config\'s console.log, its function\'s, symbols(), a timer of the strategy\'s)', async () => {
    const top = "console.log('CONFIG-LOG on stdout?');\nprocess.stdout.write('CONFIG-WRITE on stdout?\\n');\n";
    writeFileSync(join(dir, 'logs.config.mjs'), `${top}export default () => { console.log('CONFIG-FN on stdout?'); return ${JSON.stringify(config('log-symbols'))}; };\n`);
    const r = await run(['run', '-c', 'logs.config.mjs', '--out', 'o-logs', '--json']);
    expect(r.code, r.stderr).toBe(0);
    for (const line of r.stdout.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
    for (const text of ['CONFIG-LOG', 'CONFIG-WRITE', 'CONFIG-FN', 'LOG-TOP', 'LOG-SYMBOLS', 'WRITE-SYMBOLS']) expect(r.stderr).toContain(`${text} on stdout?`);
    expect(r.stdout).not.toContain('on stdout?');
  });
});

describe("a timer a strategy module's top-level code starts", () => {
  it('errors the runs saying so (it was "threw after its callback returned"), and the warning does not say the runs are safe', async () => {
    const r = await run(['run', '-c', writeCfg('immediate-top', 'immediate-top'), '--out', 'o-immediate-top']);
    expect(r.code, r.stderr).toBe(1);
    const res = resultFiles(join(dir, 'o-immediate-top')).map((f) => JSON.parse(readFileSync(join(dir, 'o-immediate-top', 'results', f), 'utf8')) as RunResult);
    expect(res.length).toBeGreaterThan(0);
    for (const x of res) {
      expect(x.error).toMatch(/^a setImmediate callback the strategy module's top-level code started \(at .*immediate-top\.ts:5\) threw: immediate threw in strategy module/);
      expect(x.error).not.toContain('after its callback returned');
    }
    expect(r.stderr).toMatch(/left 1 timer on the main thread \(started at .*immediate-top\.ts:5\): cancelled here, .*a strategy module's top-level code runs again in every worker/);
  });
});

describe('a run stopped by its time limit while its worker waits on a synchronous child process', () => {
  it('ends with its own exit code (1), the child processes ended with one line (Node waited for the worker, held by `sleep 120`)', async () => {
    writeFileSync(join(dir, 'exec-block.config.mjs'), `export default ${JSON.stringify(config('exec-block', { timeoutMs: 1500 }))};\n`);
    const t0 = Date.now();
    const r = await run(['run', '-c', 'exec-block.config.mjs', '--out', 'o-exec-block', '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.stderr).toMatch(/timeout: the run passed its 1500 ms limit at bar 5/);
    expect(r.stderr).toMatch(/^marginlab: ended 2 processes \(pid \d+, \d+\) that a strategy's code started from a run stopped by its time limit and that were still running/m);
    expect(existsSync(join(dir, 'o-exec-block', 'summary.json'))).toBe(true);
  }, 90_000);
});

describe("an error a strategy module's top-level code leaves in a worker, outside any run", () => {
  it('is said as what it is, not as "strategy code threw after its callback returned" (no run and no callback was involved)', async () => {
    const r = await run(['run', '-c', writeCfg('worker-micro', 'worker-micro'), '--out', 'o-worker-micro', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('marginlab: worker: an error outside any run was ignored: worker-only fault');
    expect(r.stderr).not.toContain('after its callback returned');
  });
});
