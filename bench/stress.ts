/**
 * bench:stress: `marginlab stress` on the bundled config (backtest.config.ts: every library
 * strategy, isolated and cross (+ mixed for core-satellite), 3×/10×/25×, the bundled 60 days of
 * 1h Binance data), run by the CLI as users run it.
 *
 *   1. `marginlab stress --paths N --scenarios none`: Monte Carlo paths only.
 *      pathsPerSec = N ÷ (pool time × share of path replays among all replays); one "path" is the
 *      whole bundled plan (every strategy × leverage × setup) replayed over one bootstrap path.
 *      pathReplaysPerSec = path tasks (one strategy × params × leverage pass over one path, all
 *      setups in one pass) per second of pool time.
 *   2. `marginlab stress --paths N`: the default stress plan (the whole crash pack at 3 seeded
 *      times, plus N paths), wall time of the whole command (load, plan, pool, report).
 *
 * The CLI is the compiled package (dist/src/cli/bin.mjs, brought up to date first with
 * `scripts/build.mjs --if-stale`, as `npm run backtest` runs it when dist/ is fresh; until stop 36 this
 * bench ran the TypeScript sources through tsx).
 *
 * BENCH_PATHS (default 200), BENCH_WORKERS (default: the config's 'auto'). Prints one line per
 * measurement, then one JSON object as the last line. Also prints the load average: the figures
 * only mean something on an otherwise idle machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunManifest, RunResult } from '../src/shard/types.js';

const PATHS = Number(process.env.BENCH_PATHS ?? 200);
const WORKERS = process.env.BENCH_WORKERS;
const REPO = resolve(import.meta.dirname, '..');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.mjs');
// (a failed build throws: the figures are never of a stale dist/)
execFileSync(process.execPath, [join(REPO, 'scripts', 'build.mjs'), '--if-stale'], { stdio: 'inherit' });

function stress(extra: string[]): { wallMs: number; manifest: RunManifest; results: RunResult[]; out: string } {
  const out = mkdtempSync(join(tmpdir(), 'ml-bench-stress-'));
  const args = [BIN, 'stress', '-c', join(REPO, 'backtest.config.ts'), '--paths', String(PATHS), '--out', out, '--quiet', ...extra, ...(WORKERS ? ['--workers', WORKERS] : [])];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = Date.now() - t0;
  if (r.status !== 0) throw new Error(`marginlab stress exited ${r.status}: ${r.stderr}`);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as RunManifest;
  const results = readdirSync(join(out, 'results')).map((f) => JSON.parse(readFileSync(join(out, 'results', f), 'utf8')) as RunResult);
  return { wallMs, manifest, results, out };
}

const tasksOf = (results: RunResult[], pred: (r: RunResult) => boolean) => new Set(results.filter(pred).map((r) => JSON.stringify({ ...r.spec, setup: null }))).size;

console.log(`bench:stress: bundled config, ${PATHS} paths, workers ${WORKERS ?? 'auto'}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const a = stress(['--scenarios', 'none']);
const sweepMs = a.manifest.timings?.sweepMs ?? a.wallMs;
const pathTasks = tasksOf(a.results, (r) => r.spec.stress?.kind === 'path');
const allTasks = tasksOf(a.results, () => true);
const pathSec = (sweepMs / 1000) * (pathTasks / allTasks);
const pathsPerSec = PATHS / pathSec;
const pathReplaysPerSec = pathTasks / pathSec;
console.log(`paths only: ${a.results.length} runs (${pathTasks} path passes of ${allTasks}), pool ${(sweepMs / 1000).toFixed(1)} s, command ${(a.wallMs / 1000).toFixed(1)} s`);
console.log(`  ${pathsPerSec.toFixed(2)} paths/s (the whole bundled plan over one path), ${pathReplaysPerSec.toFixed(1)} path passes/s`);
rmSync(a.out, { recursive: true, force: true });

const b = stress([]);
console.log(`marginlab stress --paths ${PATHS} (crash pack at 3 times + ${PATHS} paths): ${b.results.length} runs, wall ${(b.wallMs / 1000).toFixed(1)} s (pool ${((b.manifest.timings?.sweepMs ?? 0) / 1000).toFixed(1)} s)`);
rmSync(b.out, { recursive: true, force: true });
console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(
  JSON.stringify({
    paths: PATHS,
    pathsPerSec: Number(pathsPerSec.toFixed(3)),
    pathReplaysPerSec: Number(pathReplaysPerSec.toFixed(2)),
    pathsOnlyWallMs: a.wallMs,
    stressWallMs: b.wallMs,
    stressRuns: b.results.length,
    loadAverage: loadavg()[0],
  }),
);
