/**
 * What loading marginlab costs: every user module that imports 'marginlab' (a config, a strategy)
 * loads the package entry — in the CLI's main thread and in every worker — and the CLI loads its
 * commands at start. None of them reads or writes Arrow files (the data loads in the loader thread),
 * so neither imports apache-arrow (146 modules, ≈ 0.3 s of each command) until a function that
 * needs it is called: the entry's loadDataset, synthesize and writeDataset import it at their first
 * call (src/feed/entry.ts). Runs the compiled package (dist/), as users do.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './fixtures/run/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a module-load hook (node --import) that prints every module URL loaded, one per line, prefixed */
const hook = join(dir, 'log-loads.mjs');
writeFileSync(
  hook,
  `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(
    "export async function load(url, ctx, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, ctx); }",
  )}));\n`,
);

function loadedBy(args: string[]): { urls: string[]; status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true', FORCE_COLOR: '0' } });
  const urls = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  return { urls, status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('LOADED ')).join('\n') };
}

const entry = pathToFileURL(join(REPO, 'dist', 'src', 'index.js')).href;
const arrow = (urls: string[]) => urls.filter((u) => u.includes('/apache-arrow/'));

describe('importing marginlab', () => {
  it("the package entry (what a config's or a strategy's `from 'marginlab'` loads) imports no Arrow module", () => {
    const r = loadedBy(['--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); console.log(typeof m.loadDataset, typeof m.defineConfig, typeof m.replay);`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function function function');
    // the hook saw the entry's graph (the test would pass vacuously otherwise)
    expect(r.urls.some((u) => u.endsWith('/dist/src/engine/replay.js'))).toBe(true);
    expect(r.urls.some((u) => u.includes('/zod/'))).toBe(true);
    expect(arrow(r.urls)).toEqual([]);
  });

  it('the CLI at start (marginlab --version) imports no Arrow module, nor zod (its commands import what they need when they run)', () => {
    const r = loadedBy([join(REPO, 'dist', 'src', 'cli', 'bin.mjs'), '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.urls.some((u) => u.endsWith('/dist/src/cli/main.js'))).toBe(true);
    expect(arrow(r.urls)).toEqual([]);
    // (the stress command imported the stress planning for a constant, and zod's 95 modules with it)
    expect(r.urls.filter((u) => u.includes('/zod/'))).toEqual([]);
  });

  it("the entry's synthesize, loadDataset and writeDataset import it when called, and work", () => {
    const out = join(dir, 'synth');
    const copy = join(dir, 'copy');
    const script = `
      const m = await import(${JSON.stringify(entry)});
      const manifest = await m.synthesize({ out: ${JSON.stringify(out)}, symbols: 2, bars: 300, timeframe: '1h', seed: 3 });
      const data = await m.loadDataset(${JSON.stringify(out)});
      const c = data.columns[0];
      await m.writeDataset(${JSON.stringify(copy)}, { venue: data.venue, timeframe: '1h', series: [{ symbol: c.symbol, kind: 'candles', timeframe: '1h', time: data.time, columns: { open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume } }] });
      const back = await m.loadDataset(${JSON.stringify(copy)});
      console.log(JSON.stringify([manifest.files.length > 0, data.symbols.length, data.time.length, back.time.length, back.columns[0].close[299] === c.close[299]]));
    `;
    const r = loadedBy(['--input-type=module', '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([true, 2, 300, 300, true]);
    expect(arrow(r.urls).length).toBeGreaterThan(0);
  });
});

describe("the repository's command (bin/marginlab.mjs, npm run backtest)", () => {
  it('runs the compiled package when dist/ is the build of the current sources (the test setup built it)', () => {
    const r = loadedBy([join(REPO, 'bin', 'marginlab.mjs'), '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.urls.some((u) => u.endsWith('/dist/src/cli/main.js'))).toBe(true);
    expect(r.urls.some((u) => u.endsWith('/src/cli/main.ts'))).toBe(false);
  });

  it('dist/ counts as fresh only while no build input is newer than the newest one its build read, and both exist', async () => {
    const { distIsFresh, BUILD_INPUTS, stampText } = (await import(pathToFileURL(join(REPO, 'scripts', 'dist-fresh.mjs')).href)) as {
      distIsFresh: (root: string) => boolean;
      BUILD_INPUTS: string[];
      stampText: (newestMs: number) => string;
    };
    const root = join(dir, 'repo');
    const { mkdirSync, utimesSync } = await import('node:fs');
    const files = ['src/a/b.ts', 'strategies/s.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'scripts/build.mjs', 'scripts/dist-fresh.mjs'];
    // every input the build reads is covered by a file here
    for (const input of BUILD_INPUTS) expect(files.some((f) => f === input || f.startsWith(`${input}/`)), input).toBe(true);
    const at = (f: string, s: number) => utimesSync(join(root, f), s, s);
    for (const f of files) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), '');
    }
    for (const f of [...files, 'src', 'src/a', 'strategies', 'scripts']) at(f, 1000);
    expect(distIsFresh(root)).toBe(false); // no stamp (never built, or a build that failed)
    mkdirSync(join(root, 'dist'));
    // a build that read inputs as new as 1000 s, its stamp written at 2000 s
    writeFileSync(join(root, 'dist', '.build-stamp'), stampText(1000 * 1000));
    at('dist/.build-stamp', 2000);
    expect(distIsFresh(root)).toBe(true);
    // a source saved while that build ran (older than the stamp, newer than what the build read): stale
    at('src/a/b.ts', 1500);
    expect(distIsFresh(root)).toBe(false);
    // edited after the build, deep in src/ or a build setting: stale
    at('src/a/b.ts', 3000);
    expect(distIsFresh(root)).toBe(false);
    at('src/a/b.ts', 1000);
    at('tsconfig.build.json', 3000);
    expect(distIsFresh(root)).toBe(false);
    at('tsconfig.build.json', 1000);
    expect(distIsFresh(root)).toBe(true);
    // a stamp of the old kind (a date, no input time): not known to be fresh
    writeFileSync(join(root, 'dist', '.build-stamp'), '2026-12-02T00:00:00.000Z\n');
    expect(distIsFresh(root)).toBe(false);
    writeFileSync(join(root, 'dist', '.build-stamp'), stampText(1000 * 1000));
    // an input missing: not the build of what is there
    rmSync(join(root, 'package.json'));
    expect(distIsFresh(root)).toBe(false);
  });
});
