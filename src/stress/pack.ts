/**
 * The built-in crash pack: historical crashes as scenarios, each dated, with its figures and
 * where to check them (docs/stress.md has the table and the modelling choices). Depths are the
 * peak-to-trough moves of the figures; the shapes, durations and recoveries are modelling choices
 * stated in docs/stress.md.
 */
import { deepFreeze } from '../util/freeze.js';
import { scenarioSchema, type Scenario, type ScenarioInput, type SymbolShockInput } from './scenario.js';

const BINANCE_1M = (sym: string, day: string) => `https://data.binance.vision/data/futures/um/daily/klines/${sym}/1m/${sym}-1m-${day}.zip`;

/** 2025-10-10: a 70-minute slide to the depth, half of it back over 3h, funding spike, volume × 5 */
const oct10 = (depth: number, fundingRate: number): SymbolShockInput => ({ depth, duration: '70m', shape: 'slide', recovery: 0.5, recoveryDuration: '3h', fundingRate, volume: 5 });

/** 2021-05-19: a 3h slide from 11:00 UTC, `recovery` of it back over 9h, funding −0.1 %, volume × 4 */
const may19 = (depth: number, recovery: number): SymbolShockInput => ({ depth, duration: '3h', shape: 'slide', recovery, recoveryDuration: '9h', fundingRate: -0.001, volume: 4 });

/** 2020-03-12/13: −23 % over 1h, then −51 % (cumulative) over 3h15m starting 13h later */
const mar12 = (): SymbolShockInput => ({
  legs: [
    { at: 0, depth: -0.23, duration: '1h', shape: 'slide' },
    { at: '13h', depth: -0.51, duration: '3h15m', shape: 'slide' },
  ],
  fundingRate: -0.001,
  volume: 4,
});

const PACK_INPUT: ScenarioInput[] = [
  {
    id: 'crash-2025-10-10',
    title: '2025-10-10 tariff flash crash, 20:50–22:00 UTC (~$19bn liquidated market-wide)',
    date: '2025-10-10T20:50:00Z',
    sources: [
      'BTC 122,470 → 101,682 (−17.0 %), ETH 4,388 → 3,405 (−22.4 %), SOL 224 → 142 (−36.6 %), XRP 2.83 → 1.77 (−37.5 %; prints as low as 1.25 on some venues), ADA about −30 %',
      BINANCE_1M('BTCUSDT', '2025-10-10'),
      BINANCE_1M('ETHUSDT', '2025-10-10'),
      BINANCE_1M('SOLUSDT', '2025-10-10'),
      BINANCE_1M('XRPUSDT', '2025-10-10'),
      BINANCE_1M('ADAUSDT', '2025-10-10'),
      'liquidation total: CoinGlass liquidation data, 2025-10-10/11 (https://www.coinglass.com/LiquidationData)',
    ],
    symbols: {
      BTC: oct10(-0.17, -0.002),
      ETH: oct10(-0.224, -0.002),
      SOL: oct10(-0.366, -0.003),
      XRP: { ...oct10(-0.375, -0.003), markExtra: 0.1 },
      ADA: oct10(-0.3, -0.003),
    },
    market: oct10(-0.17, -0.002),
    marketSymbol: 'BTC',
  },
  {
    id: 'crash-2021-05-19',
    title: '2021-05-19 China mining/ban sell-off: BTC about −30 % intraday to about 30,000, ETH about −44 % to about 1,888',
    date: '2021-05-19T11:00:00Z',
    sources: [
      'BTC about 43,000 → about 30,000 (−30 %), ETH about 3,380 → about 1,888 (−44 %), intraday 2021-05-19',
      BINANCE_1M('BTCUSDT', '2021-05-19'),
      BINANCE_1M('ETHUSDT', '2021-05-19'),
    ],
    symbols: {
      BTC: may19(-0.3, 0.5),
      ETH: may19(-0.44, 0.35),
    },
    market: may19(-0.3, 0.5),
    marketSymbol: 'BTC',
  },
  {
    id: 'crash-2020-03-12',
    title: '2020-03-12/13 "Black Thursday": BTC about −51 % in two legs',
    date: '2020-03-12T10:00:00Z',
    sources: [
      'BTC about 7,950 → about 3,850 (−51 %): 10:00–11:00 UTC to −23 %, then 23:00 (03-12) – 02:15 UTC (03-13) to the low',
      BINANCE_1M('BTCUSDT', '2020-03-12'),
      BINANCE_1M('BTCUSDT', '2020-03-13'),
    ],
    symbols: { BTC: mar12() },
    market: mar12(),
    marketSymbol: 'BTC',
  },
  {
    id: 'alt-wick',
    title: 'single-symbol wick: ADA −40 % and back within 10 minutes (inside one bar); every other symbol untouched',
    sources: ['synthetic; the size of single-venue alt wicks such as those of 2025-10-10'],
    symbols: {
      ADA: { depth: -0.4, duration: '10m', shape: 'wick', markExtra: -0.5 },
    },
  },
  {
    id: 'correlation-break',
    title: "correlation break: a hedged pair's legs move apart (ETH −12 %, BTC +8 % over 4h, no recovery)",
    sources: ['synthetic; the long-ETH / short-BTC pair of the pairs strategy loses on both legs at once'],
    symbols: {
      ETH: { depth: -0.12, duration: '4h', shape: 'slide' },
      BTC: { depth: 0.08, duration: '4h', shape: 'slide' },
    },
  },
];

/** The crash pack, resolved (schema defaults applied), by id. */
export const CRASH_PACK: readonly Scenario[] = deepFreeze(PACK_INPUT.map((s) => scenarioSchema.parse(s)));

export function packScenario(id: string): Scenario | undefined {
  return CRASH_PACK.find((s) => s.id === id);
}
