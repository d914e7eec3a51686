/**
 * The engine against an independent model of the documented order rules (test/order-model.ts),
 * over seeded random strategies on small synthetic datasets: every fill (time, quantity, price,
 * fee, maker/taker, position after), every rejection (time, reason), every liquidation (time,
 * price), and the strategy's view (openOrders at each bar, what cancel / cancelAll return) must be
 * the same, under isolated and cross, with and without volume participation and mark candles. And
 * the documented consequence of one trigger path: a strategy that is never liquidated (nor refused
 * for margin) gets identical fills under isolated, cross and mixed (DESIGN §4.3).
 */
import { describe, expect, it } from 'vitest';
import { replay, DEFAULT_EXECUTION, SETUPS } from '../src/engine/index.js';
import type { SetupOutput, SetupSpec } from '../src/engine/types.js';
import { getVenue } from '../src/venue/index.js';
import { HOUR, T0, makeData, type Bar } from './engine-fixtures.js';
import { caseStrategy, model, randomCase, type ModelCase, type ModelEvent } from './order-model.js';

const VOLUME = 1000;

function replayCase(c: ModelCase, setups: SetupSpec[], opts: { capital?: string; maxFraction?: number; markFactor?: number } = {}) {
  const mark = opts.markFactor ? c.bars.map((b) => (b ? (b.map((x) => x * (1 + opts.markFactor!)) as Bar) : null)) : undefined;
  const data = makeData({ BTCUSDT: { bars: c.bars, volume: VOLUME, ...(mark ? { mark } : {}) } });
  const logs: string[][] = [];
  const out = replay({
    data,
    symbols: ['BTCUSDT'],
    strategy: caseStrategy(c, logs),
    params: {},
    venue: getVenue('binance-usdm'),
    setups,
    initialCapital: opts.capital ?? '1000',
    leverage: c.leverage,
    execution: { ...DEFAULT_EXECUTION, slippageBps: c.slippageBps, intrabarPath: c.path, participation: opts.maxFraction ? { maxFraction: opts.maxFraction } : null },
  });
  return { setups: out.setups, logs };
}

function engineEvents(s: SetupOutput): ModelEvent[] {
  const out: ModelEvent[] = [];
  for (const e of s.events) {
    if (e.type === 'fill') {
      const rate = Number(e.fee) / Math.abs(e.qty * e.price);
      out.push({ kind: 'fill', time: e.time, qty: e.qty, price: e.price, fee: Number(e.fee), liquidity: Math.abs(rate - 0.0002) < 1e-6 ? 'maker' : 'taker', positionQty: e.positionQty });
    } else if (e.type === 'rejection') out.push({ kind: 'rejection', time: e.time, reason: e.reason });
    else if (e.type === 'liquidation') out.push({ kind: 'liquidation', time: e.time, price: e.prices[0]! });
  }
  return out;
}

/** the same event: prices to 1e-9 relative, fees to 1.5e-8 (the model books in floats, the engine in exact units) */
function same(a: ModelEvent, b: ModelEvent): boolean {
  if (a.kind !== b.kind || a.time !== b.time) return false;
  if (a.kind === 'rejection') return a.reason === b.reason;
  if (a.kind === 'liquidation') return Math.abs(a.price! - b.price!) <= 1e-7 * a.price!;
  return Math.abs(a.qty! - b.qty!) < 1e-9 && Math.abs(a.price! - b.price!) <= 1e-9 * a.price! && Math.abs(a.fee! - b.fee!) <= 1.5e-8 && a.liquidity === b.liquidity && Math.abs(a.positionQty! - b.positionQty!) < 1e-9;
}

/** one line per event, for the diff of a failure */
const text = (e: ModelEvent) =>
  e.kind === 'fill'
    ? `fill ${(e.time - T0) / HOUR} ${e.qty!.toFixed(3)} @${e.price!.toPrecision(12)} fee ${e.fee!.toFixed(7)} ${e.liquidity} → ${e.positionQty!.toFixed(3)}`
    : e.kind === 'liquidation'
      ? `liquidation ${(e.time - T0) / HOUR} @${e.price!.toPrecision(8)}`
      : `rejection ${(e.time - T0) / HOUR} ${e.reason}`;

function compare(seeds: number, first: number, opts: { maxFraction?: number; markFactor?: number } = {}) {
  let fills = 0;
  let rejections = 0;
  let liquidations = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    const c = randomCase(seed);
    const { setups, logs } = replayCase(c, [SETUPS.isolated, SETUPS.cross], opts);
    setups.forEach((s, k) => {
      expect(s.error, `seed ${seed}`).toBeUndefined();
      const mode = s.setup.defaultMode;
      const m = model(c, { mode, capital: 1000, T0, TF: HOUR, capLots: opts.maxFraction ? Math.floor(Math.round((VOLUME * opts.maxFraction) / 0.001)) : Infinity, markFactor: opts.markFactor ?? 0 });
      let eng = engineEvents(s);
      let mod = m.events;
      // with mark candles the liquidation source is the mark path, which the model does not walk
      const cut = opts.markFactor ? Math.min(...[...eng, ...mod].filter((e) => e.kind === 'liquidation').map((e) => e.time), Infinity) : Infinity;
      eng = eng.filter((e) => e.time < cut);
      mod = mod.filter((e) => e.time < cut);
      if (!(eng.length === mod.length && eng.every((e, i) => same(e, mod[i]!)))) {
        expect(eng.map(text), `seed ${seed} ${mode}`).toEqual(mod.map(text));
        expect.fail(`seed ${seed} ${mode}: events differ beyond the rounding tolerance`);
      }
      if (cut === Infinity) expect(logs[k], `seed ${seed} ${mode}: openOrders / cancel`).toEqual(m.log);
      fills += eng.filter((e) => e.kind === 'fill').length;
      rejections += eng.filter((e) => e.kind === 'rejection').length;
      liquidations += eng.filter((e) => e.kind === 'liquidation').length;
    });
  }
  return { fills, rejections, liquidations };
}

describe('the engine against an independent model of the order rules (one symbol, random strategies)', () => {
  it('fills, rejections, liquidations and the order book agree on 400 random cases (×2 setups)', () => {
    const n = compare(400, 1);
    // the cases exercise what they are meant to (counts of this seed range)
    expect(n.fills).toBeGreaterThan(1000);
    expect(n.rejections).toBeGreaterThan(1000);
    expect(n.liquidations).toBeGreaterThan(10);
  });

  it('with volume participation (a cap of 10 a bar, so larger market orders are sliced)', () => {
    compare(200, 1000, { maxFraction: 0.01 });
  });

  it('with a cap below one step on every bar (market orders never fill, reduce-only orders stay as they are)', () => {
    compare(100, 2000, { maxFraction: 1e-7 });
  });

  it('with mark candles 0.3 % above the trades (triggers stay on trade prices; transfers and leverage checks use the mark)', () => {
    compare(200, 3000, { markFactor: 0.003 });
  });
});

describe('one trigger path: identical fills under isolated, cross and mixed when nothing is liquidated or refused for margin', () => {
  it('300 random cases, mixed with cross and with isolated by default', () => {
    const mixedIsolated: SetupSpec = { id: 'mixed', defaultMode: 'isolated', perOrderMode: true };
    let compared = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const { setups } = replayCase(randomCase(seed), [SETUPS.isolated, SETUPS.cross, SETUPS.mixed, mixedIsolated], { capital: '10000000' });
      const skip = setups.some((s) => s.events.some((e) => e.type === 'liquidation' || (e.type === 'rejection' && (e.reason === 'insufficientMargin' || e.reason === 'exceedsMaxLeverage'))));
      if (skip) continue;
      compared++;
      // everything but the fill's margin mode, which is the setup's
      const fills = setups.map((s) => s.events.flatMap((e) => (e.type === 'fill' ? [[e.time, e.qty, e.price, e.fee, e.realizedPnl, e.positionQty]] : [])));
      for (let k = 1; k < fills.length; k++) expect(fills[k], `seed ${seed} ${setups[k]!.setup.id}/${setups[k]!.setup.defaultMode}`).toEqual(fills[0]);
    }
    expect(compared).toBeGreaterThan(250);
  });
});
