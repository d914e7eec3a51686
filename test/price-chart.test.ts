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
    // (the last close, drawn at its bar's close: the bar's open + 1h)
    const last = cross.prices!.time[n - 1]! + 3_600_000;
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

  it("draws each close at its bar's close, where the fills after it are (it drew it at the bar's open, a bar early)", () => {
    const r = makeResults().find((x) => x.spec.strategy === 'ma-trend' && x.spec.leverage === 3 && x.spec.setup === 'cross')!;
    expect(r.spec.timeframe).toBe('1h');
    const p = pricePanel([['cross', r]], 100_000)!;
    const sym = p.symbols[0]!;
    const at = (k: number) => p.t.indexOf(r.prices!.time[k]! + 3_600_000);
    // bar k's close at its close time, which is bar k + 1's open: a market fill there is at that open
    for (const k of [0, 5, 17]) expect(p.close[sym]![at(k)]).toBe(r.prices!.close[sym]![k]);
    expect(p.t[0]).toBe(r.curves.time[0]! + 3_600_000);
  });
});
