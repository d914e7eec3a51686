/**
 * Golden results: every library strategy, default params, on the bundled real data
 * (data/binance-usdm-2025, 1h, binance-usdm, leverage 10, 10 000 USDT, 2 bps slippage) under the
 * isolated, cross and mixed setups. Shared by test/strategies-golden.test.ts and
 * scripts/update-goldens.ts (the only way goldens change).
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadDataset } from '../../src/feed/index.js';
import { getVenue } from '../../src/venue/index.js';
import { replay, DEFAULT_EXECUTION, ENGINE_VERSION, SETUPS } from '../../src/engine/index.js';
import { listStrategies } from '../../src/strategy/registry.js';

const GOLDEN_DIR = dirname(fileURLToPath(import.meta.url));
const DATASET_DIR = join(GOLDEN_DIR, '..', '..', 'data', 'binance-usdm-2025');

const p = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(12)) : String(x));

export interface GoldenSetup {
  books: Record<string, string>;
  finalEquity: number | string;
  minEquity: number | string;
  maxMarginRatioPeak: number | string;
  events: Record<string, number>;
  rejections: Record<string, number>;
  liquidations: { time: number; symbols: number[]; prices: (number | string)[]; penalty: string; insuranceDraw: string }[];
  liquidationPriceSource: string;
  error: string | null;
}

export interface Golden {
  strategy: string;
  engineVersion: string;
  params: Record<string, unknown>;
  symbols: string[];
  bars: number;
  setups: Record<string, GoldenSetup>;
}

export async function computeGoldens(): Promise<Golden[]> {
  const data = await loadDataset(DATASET_DIR, { timeframe: '1h' });
  const venue = getVenue('binance-usdm');
  const out: Golden[] = [];
  for (const { name, module: mod } of await listStrategies()) {
    const params = mod.params.parse({});
    const symbols = mod.symbols(params);
    const r = replay({
      data,
      symbols,
      strategy: mod,
      params,
      venue,
      setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed],
      initialCapital: '10000',
      leverage: 10,
      execution: { ...DEFAULT_EXECUTION, slippageBps: 2 },
    });
    const setups: Record<string, GoldenSetup> = {};
    for (const s of r.setups) {
      const events: Record<string, number> = {};
      for (const e of s.events) events[e.type] = (events[e.type] ?? 0) + 1;
      const eq = s.series.equity;
      let minEq = Infinity;
      for (let i = 0; i < eq.length; i++) if (eq[i]! < minEq) minEq = eq[i]!;
      let peak = 0;
      for (let i = 0; i < s.series.marginRatioPeak.length; i++) if (s.series.marginRatioPeak[i]! > peak) peak = s.series.marginRatioPeak[i]!;
      setups[s.setup.id] = {
        books: { ...s.books },
        finalEquity: p(eq.length ? eq[eq.length - 1]! : NaN),
        minEquity: p(minEq),
        maxMarginRatioPeak: p(peak),
        events,
        rejections: s.rejections,
        liquidations: s.events
          .filter((e) => e.type === 'liquidation')
          .slice(0, 20)
          .map((e) => {
            const l = e as Extract<typeof e, { type: 'liquidation' }>;
            return { time: l.time, symbols: l.symbols, prices: l.prices.map(p), penalty: l.penalty, insuranceDraw: l.insuranceDraw };
          }),
        liquidationPriceSource: s.liquidationPriceSource,
        error: s.error ?? null,
      };
    }
    out.push({ strategy: name, engineVersion: ENGINE_VERSION, params, symbols, bars: r.bars, setups });
  }
  return out;
}

export const goldenFile = (name: string) => join(GOLDEN_DIR, `${name}.json`);
