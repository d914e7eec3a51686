/**
 * The package's public entry (`import ... from 'marginlab'`, resolved through package.json
 * "exports"): a researcher's in-process workflow end to end on the bundled real data — load,
 * replay one strategy under isolated and cross in one pass, compute metrics, check the books.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DEFAULT_EXECUTION,
  ExitCode,
  LookAheadError,
  SETUPS,
  defineStrategy,
  UserError,
  booksImbalance,
  computeMetrics,
  eventRecords,
  reconstructTrades,
  getVenue,
  loadDataset,
  replay,
  resolveStrategy,
  SummarySchema,
  SUMMARY_SCHEMA_VERSION,
  type Summary,
} from 'marginlab';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, runCli, writeConfig } from './fixtures/run/cli.js';

describe('public API', () => {
  it('replays a library strategy under isolated and cross on the bundled data with balanced books', async () => {
    const data = await loadDataset('data/binance-usdm-2025', { timeframe: '1h' });
    const strategy = await resolveStrategy('buy-and-hold');
    const params = strategy.params.parse({}) as Record<string, unknown>;
    const out = replay({
      data,
      symbols: strategy.symbols(params),
      strategy,
      params,
      venue: getVenue('binance-usdm'),
      setups: [SETUPS.isolated, SETUPS.cross],
      initialCapital: '10000',
      leverage: 25,
      execution: DEFAULT_EXECUTION,
    });
    expect(out.bars).toBe(1458);
    expect(out.setups.map((s) => s.setup.id)).toEqual(['isolated', 'cross']);
    for (const s of out.setups) {
      // deposit + realised PnL − fees + funding received − funding paid − penalties + insurance = wallet, exactly
      expect(booksImbalance(s.books)).toBe('0');
      const m = computeMetrics({ output: s, initialCapital: 10000, timeframeMs: data.timeframeMs, symbols: out.symbols });
      expect(typeof m.totalReturn).toBe('number');
      expect(m.liquidations).toBe(s.events.filter((e) => e.type === 'liquidation').length);
    }
    // at 25x with half the equity as margin, BTC's June 2025 dip liquidates the isolated position
    // (its margin is half the wallet) while the cross position draws on the whole wallet
    const [iso, cross] = out.setups;
    const liq = (s: typeof iso) => s!.events.filter((e) => e.type === 'liquidation').length;
    expect(liq(iso)).toBeGreaterThanOrEqual(1);
    expect(Number(iso!.books.wallet)).toBeGreaterThan(0);
    expect(liq(cross) === 0 || Number(cross!.books.wallet) < Number(iso!.books.wallet)).toBe(true);
    // the events as the result files' records, and their round trips: the isolated liquidation ends a trade
    const records = eventRecords(iso!.events, out.symbols, iso!.liquidations);
    expect(records.filter((r) => r.type === 'fill').every((r) => r.type === 'fill' && typeof r.symbol === 'string' && r.orderType === 'market')).toBe(true);
    expect(reconstructTrades(records).some((t) => t.exitReason === 'liquidation' && t.exitOrder === null)).toBe(true);
  });

  it('reports an unknown strategy as a config error listing the available ones', async () => {
    const err = await resolveStrategy('no-such-strategy').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(ExitCode.CONFIG);
    expect((err as UserError).message + (err as UserError).details.join(' ')).toMatch(/sma-cross/);
  });

  it('exports the LookAheadError a strategy gets when it reads a later bar', async () => {
    const data = await loadDataset('data/binance-usdm-2025', { timeframe: '1h' });
    const caught: unknown[] = [];
    const peek = defineStrategy({
      name: 'peek',
      description: 'reads one bar ahead',
      params: z.object({}),
      symbols: () => ['BTCUSDT'],
      create: () => ({
        onBar(ctx) {
          if (caught.length > 0) return;
          try {
            ctx.data[0]!.close.ago(-1);
          } catch (e) {
            caught.push(e);
          }
        },
      }),
    });
    replay({
      data, symbols: ['BTCUSDT'], strategy: peek, params: {}, venue: getVenue('binance-usdm'),
      setups: [SETUPS.isolated], initialCapital: '1000', leverage: 1, execution: DEFAULT_EXECUTION, toIndex: 3,
    });
    expect(caught).toHaveLength(1);
    expect(caught[0]).toBeInstanceOf(LookAheadError);
  });

  it("exports summary.json's schema (docs/report.md names it for machines): a run's summary.json parses with it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-summary-schema-'));
    await makeDataset(join(dir, 'data'), { bars: 100, seed: 2 });
    writeConfig(dir, 'backtest.config.ts', { name: 's', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'], leverage: [3] });
    const r = await runCli(['run', '--quiet', '--out', 'out'], dir);
    expect(r.code, r.stderr).toBe(0);
    const summary: Summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')));
    expect(summary.schemaVersion).toBe(SUMMARY_SCHEMA_VERSION);
    expect(summary.runs).toHaveLength(2);
  });
});
