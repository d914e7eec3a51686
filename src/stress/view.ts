/**
 * Worker side of a stress run: the MarketData view the engine replays (built from the shared base
 * columns, which are only read), and the per-setup stress figures of its result.
 */
import type { MarketData } from '../feed/types.js';
import type { SetupOutput } from '../engine/types.js';
import { liquidationEvents } from '../engine/ledger.js';
import { fromU, liquidationLossU } from '../analysis/money.js';
import { bootstrapPath } from './bootstrap.js';
import { applyScenario, computeBetas, scenarioWindow, symbolShocks } from './overlay.js';
import type { Scenario } from './scenario.js';
import { barOf, EQUITY_GRID_POINTS, firstWipeOutFrom, msFromShock, wipeOutSpans, type RunStressResult, type RunStressSpec, type StressInjection } from './types.js';

/** Betas per (base data, market key), cached for the worker's life. */
const betaCache = new WeakMap<MarketData, Map<string, Float64Array>>();

function betasOf(data: MarketData, marketKey: string | undefined): Float64Array {
  let m = betaCache.get(data);
  if (!m) {
    m = new Map();
    betaCache.set(data, m);
  }
  const key = marketKey ?? '';
  let b = m.get(key);
  if (!b) {
    b = computeBetas(data, marketKey);
    m.set(key, b);
  }
  return b;
}

function scenarioOf(scenarios: Readonly<Record<string, Scenario>>, id: string): Scenario {
  const s = scenarios[id];
  if (!s) throw new Error(`stress: scenario '${id}' is not defined (built-in pack or the config's stress.scenarios)`);
  return s;
}

/**
 * The data a stress run replays. Betas are always measured on the base data. With `symbols`, only
 * those symbols' columns are made (a run replays its own symbols; each symbol's path and shock
 * depend on the base, the seed and the scenario alone, not on which other symbols are made).
 */
export function stressView(base: MarketData, stress: RunStressSpec, scenarios: Readonly<Record<string, Scenario>>, symbols?: readonly string[]): MarketData {
  const keep = symbols ? base.symbols.flatMap((name, k) => (symbols.includes(name) ? [k] : [])) : null;
  const sub: MarketData = keep && keep.length < base.symbols.length ? { ...base, symbols: keep.map((k) => base.symbols[k]!), columns: keep.map((k) => base.columns[k]!) } : base;
  const betas = (marketKey: string | undefined): Float64Array => {
    const b = betasOf(base, marketKey);
    return sub === base ? b : Float64Array.from(keep!, (k) => b[k]!);
  };
  if (stress.kind === 'scenario') {
    const sc = scenarioOf(scenarios, stress.scenario);
    return applyScenario(sub, sc, stress.injectAt, betas(sc.marketSymbol));
  }
  let view = bootstrapPath(sub, stress.seed, stress.pathIndex, stress.blockBars);
  for (const c of stress.crashes ?? []) {
    const sc = scenarioOf(scenarios, c.scenario);
    view = applyScenario(view, sc, c.injectAt, betas(sc.marketSymbol));
  }
  return view;
}

/**
 * The shock window [start, end] (ms UTC) of an injection on `data`, over the symbols it moves
 * among `only` (default: every symbol of `data`); null when it moves none of them.
 */
export function injectionWindow(data: MarketData, scenario: Scenario, injectAt: number, only?: readonly string[]): [number, number] | null {
  const shocks = symbolShocks(data, scenario, null).map((c, s) => (only === undefined || only.includes(data.symbols[s]!) ? c : null));
  if (!shocks.some((c) => c !== null)) return null;
  const [a, b] = scenarioWindow(shocks);
  return [injectAt + a, injectAt + b];
}

const round10 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(10)) : 0);

function decimalString(x: number): string {
  if (!Number.isFinite(x)) return '0';
  const s = x.toFixed(8).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

/**
 * The stress figures of one setup's output. `symbols` = the replay's symbols (event indexes),
 * `data` = the replayed view (for the shock window), `scenarios` = the resolved definitions.
 */
export function stressFigures(
  stress: RunStressSpec,
  so: SetupOutput,
  symbols: readonly string[],
  initialCapital: number,
  data: MarketData,
  scenarios: Readonly<Record<string, Scenario>>,
): RunStressResult {
  const { time, equity, marginRatioPeak } = so.series;
  const n = time.length;
  const firstLiquidated: { symbol: string; time: number }[] = [];
  const liquidations = liquidationEvents(so);
  for (const e of liquidations) {
    for (const s of e.symbols) firstLiquidated.push({ symbol: symbols[s] ?? String(s), time: e.time });
  }
  const spans = wipeOutSpans(time, equity, initialCapital);
  const wiped = spans.length > 0;

  const firstCrash: StressInjection | null =
    stress.kind === 'scenario' ? { scenario: stress.scenario, injectAt: stress.injectAt } : (stress.crashes?.[0] ?? null);
  const origin = stress.kind === 'scenario' ? stress.injectAt : n > 0 ? time[0]! : 0;
  let peakFrom = 0;
  let lossAtShock: string | null = null;
  // the window over the run's own symbols: a scenario moving none of them has no change at the shock
  const window = firstCrash && n > 0 ? injectionWindow(data, scenarioOf(scenarios, firstCrash.scenario), firstCrash.injectAt, symbols) : null;
  if (window) {
    const [wa, wb] = window;
    const first = Math.min(barOf(time, wa, data.timeframeMs), n);
    let last = barOf(time, wb, data.timeframeMs);
    // a window ending where a bar opens ends with the bar before it
    if (wb > wa && last < n && time[last]! >= wb) last--;
    last = Math.min(last, n - 1);
    if (stress.kind === 'scenario') peakFrom = first;
    if (first < n) {
      const before = first > 0 ? equity[first - 1]! : initialCapital;
      lossAtShock = decimalString(equity[Math.max(last, first)]! - before);
    }
  } else if (stress.kind === 'scenario' && n > 0) peakFrom = Math.min(barOf(time, stress.injectAt, data.timeframeMs), n);
  // scenario runs: the line between what the run did before the shock and what the shock did, the open of the bar it starts in
  let shock: Pick<RunStressResult, 'shockBarOpen' | 'wipedOutBeforeShock' | 'wipedOutFromShockAt'> = {};
  if (stress.kind === 'scenario') {
    const k = n > 0 ? barOf(time, stress.injectAt, data.timeframeMs) : 0;
    // the first wipe-out span starts before the shock's bar (a bar of the run: k < n), or there is none before it
    const before = spans.length > 0 && (k >= n || spans[0]![0] < time[k]!);
    shock = {
      shockBarOpen: k < n ? Math.min(time[k]!, stress.injectAt) : stress.injectAt,
      wipedOutBeforeShock: before,
      // from the shock's bar on (its open: a bar of the run; none after the last bar)
      wipedOutFromShockAt: k < n ? firstWipeOutFrom(spans, time[k]!) : null,
    };
  }
  // scenario runs: the wallet's loss to the shock's liquidations (from the same line as shockOutcome's)
  let lossByShock: Pick<RunStressResult, 'liquidationLossByShock'> = {};
  if (stress.kind === 'scenario') {
    const line = shock.shockBarOpen ?? stress.injectAt;
    let u = 0n;
    for (const e of liquidations) if (e.time >= line) u += liquidationLossU(e);
    lossByShock = { liquidationLossByShock: fromU(u) };
  }
  let peak = 0;
  for (let i = peakFrom; i < n; i++) {
    const v = marginRatioPeak[i]!;
    if (Number.isFinite(v) && v > peak) peak = v;
  }
  const gridTime: number[] = [];
  const grid: number[] = [];
  if (n > 0) {
    for (let k = 0; k < EQUITY_GRID_POINTS; k++) {
      const i = Math.round((k * (n - 1)) / (EQUITY_GRID_POINTS - 1));
      gridTime.push(time[i]!);
      grid.push(round10(equity[i]!));
    }
  }
  const echo: Pick<RunStressResult, 'kind' | 'scenario' | 'injectAt' | 'pathIndex' | 'seed' | 'crashes'> =
    stress.kind === 'scenario'
      ? { kind: 'scenario', scenario: stress.scenario, injectAt: stress.injectAt }
      : {
          kind: 'path', pathIndex: stress.pathIndex, seed: stress.seed,
          ...(stress.crashes && stress.crashes.length > 0 ? { crashes: stress.crashes.map((c) => ({ scenario: c.scenario, injectAt: c.injectAt })) } : {}),
        };
  return {
    ...echo,
    survived: firstLiquidated.length === 0,
    wipedOut: wiped,
    timeToLiquidationMs:
      firstLiquidated.length === 0 ? null : stress.kind === 'scenario' ? msFromShock({ injectAt: stress.injectAt, ...shock }, firstLiquidated[0]!.time) : firstLiquidated[0]!.time - origin,
    ...shock,
    peakMarginRatio: round10(peak),
    lossAtShock,
    ...lossByShock,
    firstLiquidated,
    equityGrid: grid,
    equityGridTime: gridTime,
  };
}
