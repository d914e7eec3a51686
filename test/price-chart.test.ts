import { describe, expect, it } from 'vitest';
import { pricePanel } from '../src/report/price-chart.js';
import type { RunResult } from '../src/shard/types.js';
import type { SetupId } from '../src/engine/setups.js';
import { makeResults } from './fixtures/report/fixture.js';

/** the run as if it had failed after `n` bars: its prices and curves stop there */
function erroredAfter(r: RunResult, n: number): RunResult {
  const end = r.prices!.time[n - 1]!;
  const close = Object.fromEntries(Object.entries(r.prices!.close).map(([s, xs]) => [s, xs.slice(0, n)]));
  return { ...r, status: 'errored', error: 'strategy threw', bars: n, prices: { ...r.prices!, time: r.prices!.time.slice(0, n), close }, events: r.events.filter((e) => (e.time ?? 0) <= end) } as RunResult;
}

describe('report.html price chart', () => {
  it('an errored run listed first does not cut the price line (and the ok run beside it) where it stopped', () => {
    const rs = makeResults().filter((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 3);
    const iso = rs.find((r) => r.spec.setup === 'isolated')!;
    const cross = rs.find((r) => r.spec.setup === 'cross')!;
    const n = cross.prices!.time.length;
    expect(n).toBeGreaterThan(40);
    const failed = erroredAfter(iso, 20);
    const last = cross.prices!.time[n - 1]!;
    // either order of the setups: the line spans the ok run's window
    const orders: [SetupId, RunResult][][] = [
      [['isolated', failed], ['cross', cross]],
      [['cross', cross], ['isolated', failed]],
    ];
    for (const runs of orders) {
      const p = pricePanel(runs, 2000)!;
      expect(p.t[p.t.length - 1]).toBe(last);
      expect(p.t.length).toBe(n);
      expect(p.runs.find((r) => r.mode === 'isolated')!.status).toBe('errored');
    }
  });
});
