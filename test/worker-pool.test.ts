/**
 * The sweep's worker pool starts before the data is loaded (execute.ts WorkerPool.early): one worker
 * loads its modules while the main thread loads the data and makes the plan, and gets the datasets
 * on its first task. The results are those of a pool started with the data; a pool whose heap limit
 * the loaded data changes is replaced; a sweep stopped before its passes stops the worker it started.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, writeConfig } from './fixtures/run/cli.js';
import { loadConfig } from '../src/config/index.js';
import { runSweep } from '../src/shard/run.js';
import { createProgress } from '../src/shard/progress.js';
import { WorkerPool, type WorkerPoolOptions } from '../src/shard/execute.js';
import { UserError } from '../src/errors.js';

let dir: string;
let cfg: string;
let badCfg: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-worker-pool-'));
  await makeDataset(join(dir, 'data'), { bars: 200, seed: 7 });
  const base = { name: 'wp', data: './data', strategyDirs: [FIXTURE_STRATEGIES], leverage: [3, 10], workers: 2 };
  cfg = writeConfig(dir, 'wp.config.ts', { ...base, strategies: [{ name: 'fixture-trend', params: { lookback: 8 } }, { name: 'fixture-trend', params: { lookback: 20 } }] });
  // a strategy no folder holds: refused while the plan is made, after the pool has started
  badCfg = writeConfig(dir, 'bad.config.ts', { ...base, strategies: [{ name: 'no-such-strategy' }] });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** the books, metrics and events of every result of a run folder, by run id (without timings) */
function results(out: string): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const f of readdirSync(join(out, 'results')).sort()) {
    const j = JSON.parse(readFileSync(join(out, 'results', f), 'utf8')) as Record<string, unknown>;
    r[f] = { status: j.status, books: j.books, metrics: j.metrics, events: j.events, curves: j.curves };
  }
  return r;
}

const sweep = async (config: string, out: string) => runSweep({ loaded: await loadConfig(config), outDir: join(dir, out), shard: null, resume: false, progress: createProgress('quiet') });

/** the pools WorkerPool.early made in this test, made through `adjust` (their options changed first) */
function earlyPools(adjust: (o: WorkerPoolOptions) => WorkerPoolOptions = (o) => o): WorkerPool[] {
  const made: WorkerPool[] = [];
  const early = WorkerPool.early.bind(WorkerPool);
  vi.spyOn(WorkerPool, 'early').mockImplementation((o: WorkerPoolOptions) => {
    const wp = early(adjust(o));
    made.push(wp);
    return wp;
  });
  return made;
}

describe('the worker pool started before the data is loaded', () => {
  it('runs the passes when the loaded data gives its heap limit, with the results of a pool started with the data', async () => {
    const kept = earlyPools();
    const provided = vi.spyOn(WorkerPool.prototype, 'provide');
    const a = await sweep(cfg, 'kept');
    expect(kept).toHaveLength(1);
    // the early pool was handed the datasets: its passes ran there
    expect(provided.mock.contexts[0]).toBe(kept[0]);
    expect(a.ok).toBe(a.total);
    expect(a.errored).toBe(0);
    vi.restoreAllMocks();

    // the same sweep with the early pool's heap limit one MB off: replaced by a pool sized from the data
    const replaced = earlyPools((o) => ({ ...o, heap: { ...o.heap, mb: o.heap.mb - 1 } }));
    const provided2 = vi.spyOn(WorkerPool.prototype, 'provide');
    const b = await sweep(cfg, 'replaced');
    expect(replaced).toHaveLength(1);
    expect(provided2.mock.contexts[0]).not.toBe(replaced[0]);
    expect(replaced[0]!.pool.threads.length).toBe(0);
    expect(b.ok).toBe(a.ok);
    expect(results(join(dir, 'replaced'))).toEqual(results(join(dir, 'kept')));
    expect(Object.keys(results(join(dir, 'kept'))).length).toBe(a.total);
  }, 120_000);

  it('a sweep refused while the plan is made stops the worker it started', async () => {
    const made = earlyPools();
    let err: unknown;
    try {
      await sweep(badCfg, 'bad');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(78);
    expect(made).toHaveLength(1);
    expect(made[0]!.pool.threads.length).toBe(0);
    expect(made[0]!.fits(1, made[0]!.options.heap)).toBe(false); // destroyed
  }, 60_000);
});
