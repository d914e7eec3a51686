/**
 * docs/stress.md, Plan size: a plan is refused (78) "before it is built" when its result files would
 * not fit the disk or reading them back would not fit the memory. The disk and memory checks ran only
 * after the whole plan was built: `stress --paths 150000` on a 2-symbol, 600-bar dataset built 900,000
 * RunSpecs (900,078 runs: 80 s, 2 GB RSS) and then refused them, the heap it had just filled read as "this process
 * has 2,475 MB". The runs certain to be made (history and paths) are known before building: a plan
 * they alone make too large is now refused then. The machine's memory is pinned to 1 GB here.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, writeConfig } from './fixtures/run/cli.js';
import { loadConfig } from '../src/config/index.js';
import { runSweep } from '../src/shard/run.js';
import { createProgress } from '../src/shard/progress.js';

vi.mock('node:os', async (importOriginal) => {
  const os = await importOriginal<typeof import('node:os')>();
  return { ...os, default: { ...os, totalmem: () => 1e9 }, totalmem: () => 1e9 };
});
/** the stress variants drawn with paths: the path variants are drawn only when the plan is built */
const pathDraws: number[] = [];
vi.mock('../src/stress/plan.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/stress/plan.js')>();
  return {
    ...m,
    stressVariants: (...args: Parameters<typeof m.stressVariants>) => {
      if (args[0].paths > 0) pathDraws.push(args[0].paths);
      return m.stressVariants(...args);
    },
  };
});

let dir: string;
const sweep = async (cfg: string, out: string) =>
  runSweep({ loaded: await loadConfig(cfg), outDir: join(dir, out), shard: null, resume: false, progress: createProgress('quiet') });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-stress-size-early-'));
  await makeDataset(join(dir, 'data'), { bars: 48, seed: 3 });
});

describe('the plan-size guard before the plan is built', () => {
  it('refuses a plan whose history and path runs alone are too large, without building it', async () => {
    // 2 setups × 1,600 paths with their event log: ≈ 1.1 GB to read back > 1 GB / 2 (as test/stress-plan-shard.test.ts)
    const cfg = writeConfig(dir, 'big.config.ts', {
      name: 'big', data: './data', strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }], leverage: [3],
      stress: { scenarios: [], paths: 1600, pathEvents: true, seed: 1 },
    });
    pathDraws.length = 0;
    await expect(sweep(cfg, 'whole')).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/the plan is too large for this machine \(2 history \+ 3,200 stress runs\): reading its results back for the report needs about 1,09\d MB of memory; the machine has 1,000 MB$/) });
    expect(pathDraws).toEqual([]);
  }, 120_000);

  it('says "at least" when scenario runs may add to the certain ones', async () => {
    const cfg = writeConfig(dir, 'big2.config.ts', {
      name: 'big2', data: './data', strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }], leverage: [3],
      stress: { paths: 1600, pathEvents: true, seed: 1 },
    });
    pathDraws.length = 0;
    await expect(sweep(cfg, 'whole2')).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/the plan is too large for this machine \(2 history \+ at least 3,200 stress runs\): reading its results back/) });
    expect(pathDraws).toEqual([]);
  }, 120_000);
});
