/**
 * In-memory MarketData fixtures and a scripted strategy for the engine tests (no files).
 */
import { z } from 'zod';
import type { MarketData, SymbolColumns } from '../src/feed/types.js';
import { replay, DEFAULT_EXECUTION, SETUPS } from '../src/engine/index.js';
import type { ExecutionOptions, ReplayOutput, SetupSpec } from '../src/engine/types.js';
import { getVenue } from '../src/venue/index.js';
import type { VenueProfile } from '../src/venue/types.js';
import type { Strategy, StrategyContext, StrategyModule } from '../src/strategy/types.js';

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2025, 0, 1);

/** [open, high, low, close] */
export type Bar = [number, number, number, number];

export interface SymbolFixture {
  bars: (Bar | null)[];
  /** mark candles at the bar timeframe (same length as bars) */
  mark?: (Bar | null)[];
  volume?: number;
  /** funding events settling at bar index `bar` */
  funding?: { bar: number; rate: number; price: number }[];
}

export function makeData(symbols: Record<string, SymbolFixture>, timeframeMs = HOUR): MarketData {
  const names = Object.keys(symbols);
  const n = symbols[names[0]!]!.bars.length;
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++) time[i] = T0 + i * timeframeMs;
  const columns: SymbolColumns[] = names.map((symbol) => {
    const f = symbols[symbol]!;
    const col = (k: number, src: (Bar | null)[] | undefined) => {
      const a = new Float64Array(n).fill(NaN);
      if (src) for (let i = 0; i < n; i++) a[i] = src[i] ? src[i]![k]! : NaN;
      return a;
    };
    const present = new Uint8Array(n);
    for (let i = 0; i < n; i++) present[i] = f.bars[i] ? 1 : 0;
    const volume = new Float64Array(n);
    for (let i = 0; i < n; i++) volume[i] = f.bars[i] ? (f.volume ?? 1e9) : NaN;
    const ev = [...(f.funding ?? [])].sort((a, b) => a.bar - b.bar);
    const fundingStart = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) fundingStart[i] = ev.filter((e) => e.bar < i).length;
    return {
      symbol,
      present,
      open: col(0, f.bars),
      high: col(1, f.bars),
      low: col(2, f.bars),
      close: col(3, f.bars),
      volume,
      markAtBarTimeframe: f.mark !== undefined,
      markOpen: col(0, f.mark),
      markHigh: col(1, f.mark),
      markLow: col(2, f.mark),
      markClose: col(3, f.mark),
      fundingStart,
      fundingTime: Float64Array.from(ev.map((e) => time[e.bar]!)),
      fundingRate: Float64Array.from(ev.map((e) => e.rate)),
      fundingPrice: Float64Array.from(ev.map((e) => e.price)),
    };
  });
  return { dataset: 'fixture', venue: 'binance-usdm', timeframe: '1h', timeframeMs, time, symbols: names, columns, hashes: {} };
}

/** flat bars at price p */
export const flat = (p: number, n: number): Bar[] => Array.from({ length: n }, () => [p, p, p, p] as Bar);

export type Script = Record<number, (ctx: StrategyContext) => void>;

/** a strategy that runs `script[bar]` in onBar (bar = replayed bar number) and records callbacks */
export function scripted(script: Script, symbols: string[], log: string[] = []): StrategyModule {
  const params = z.object({});
  return {
    name: 'scripted',
    description: 'test script',
    params,
    symbols: () => symbols,
    create(): Strategy {
      return {
        onBar(ctx) {
          script[ctx.bar]?.(ctx);
        },
        onFill(f, ctx) {
          log.push(`${ctx.setup}:fill:${f.symbol}:${f.qty}@${f.price}:${f.liquidity}`);
        },
        onFunding(f, ctx) {
          log.push(`${ctx.setup}:funding:${f.symbol}:${f.received}`);
        },
        onLiquidation(l, ctx) {
          log.push(`${ctx.setup}:liquidation:${l.symbols.join(',')}`);
        },
      };
    },
  };
}

export const zeroFeeVenue = (): VenueProfile => getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } });

export function run(
  data: MarketData,
  strategy: StrategyModule,
  opts: { setups?: SetupSpec[]; leverage?: number; capital?: string; execution?: Partial<ExecutionOptions>; venue?: VenueProfile; fromIndex?: number } = {},
): ReplayOutput {
  return replay({
    ...(opts.fromIndex !== undefined ? { fromIndex: opts.fromIndex } : {}),
    data,
    symbols: data.symbols,
    strategy,
    params: {},
    venue: opts.venue ?? zeroFeeVenue(),
    setups: opts.setups ?? [SETUPS.isolated, SETUPS.cross],
    initialCapital: opts.capital ?? '10000',
    leverage: opts.leverage ?? 10,
    // the hand-computed expectations assume no slippage unless a test asks for it
    execution: { ...DEFAULT_EXECUTION, slippageBps: 0, ...opts.execution },
  });
}

export const setupOf = (out: ReplayOutput, id: string) => {
  const s = out.setups.find((x) => x.setup.id === id);
  if (!s) throw new Error(`no setup ${id}`);
  return s;
};
