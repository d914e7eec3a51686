/**
 * bench:engine on a small dataset, as `npm run bench:engine` starts it: the engine's replay and the fused reference loop
 * (in its worker thread, and in the engine's thread with BENCH_REFERENCE=same-thread) must agree on every per-bar series,
 * the final equity, the fills and the liquidations — the bench exits 1 when they do not. It asserts no time.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { REPO } from './fixtures/run/cli.js';

function bench(env: Record<string, string>): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--conditions=marginlab-source', '--import', 'tsx', 'bench/engine.ts'], {
    cwd: REPO,
    env: { ...process.env, BENCH_BARS: '20000', BENCH_REPEAT: '1', ...env },
    encoding: 'utf8',
    timeout: 110_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('bench:engine (small)', () => {
  for (const reference of ['worker', 'same-thread']) {
    it(`engine and fused reference agree (reference in ${reference === 'worker' ? 'its own thread' : "the engine's thread"})`, () => {
      const r = bench(reference === 'worker' ? {} : { BENCH_REFERENCE: 'same-thread' });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).not.toMatch(/DISAGREE/);
      expect(r.out.match(/ agree/g)).toHaveLength(4);
      const last = JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, unknown>;
      for (const k of ['engineBarsPerSec', 'fusedBarsPerSec', 'ratio', 'quietBarsPerSec', 'bookingUs', 'singleFillRatio']) expect(typeof last[k]).toBe('number');
      expect(last.bookedFills).toBeGreaterThan(0);
    });
  }
});
