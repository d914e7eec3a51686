/**
 * The plan-size guard of `marginlab stress` weighs the results this machine writes and reads
 * back: under --shard i/N those of its shard. It refused every shard of a plan too large for one
 * machine while its own message offered "split the plan with --shard i/N over several machines"
 * as the way out. The machine's memory is pinned to 1 GB here so that a small plan trips it.
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

let dir: string;
let cfg: string;
const sweep = async (out: string, shard: { index: number; count: number } | null) =>
  runSweep({ loaded: await loadConfig(cfg), outDir: join(dir, out), shard, resume: false, progress: createProgress('quiet') });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-stress-shard-size-'));
  await makeDataset(join(dir, 'data'), { bars: 48, seed: 3 });
  // 2 setups × 1,600 paths with their event log (≈ 85 kB each): ≈ 272 MB of results, 1.1 GB to read back > 1 GB / 2;
  // half of them (--shard 1/2) still too many, a hundredth (--shard 1/100) fine
  cfg = writeConfig(dir, 'big.config.ts', {
    name: 'big',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }],
    leverage: [3],
    stress: { scenarios: [], paths: 1600, pathEvents: true, seed: 1 },
  });
});

describe('the plan-size guard under --shard', () => {
  it('refuses the whole plan on one machine, and lets a shard small enough for it run', async () => {
    await expect(sweep('whole', null)).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/the plan is too large for this machine \(2 history \+ 3,200 stress runs\): reading its results back for the report needs about 1,09\d MB of memory; the machine has 1,000 MB$/) });
    const out = await sweep('shard', { index: 1, count: 100 });
    expect(out.ok).toBeGreaterThan(0);
    expect(out.ok).toBeLessThan(80);
    // a shard still too large for the machine is refused, naming the shard's share
    await expect(sweep('half', { index: 1, count: 2 })).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/\(2 history \+ 3,200 stress runs\): reading shard 1\/2's results \(1,602 runs\) back for the report needs about 54\d MB of memory; the machine has 1,000 MB$/) });
  }, 120_000);
});
