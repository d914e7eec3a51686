/**
 * RunResult is a union on status (issue 9's error taxonomy): an errored result names what went
 * wrong, an ok one carries no error; an internal engine failure is marked and makes run / stress
 * exit 70.
 */
import { describe, expect, it } from 'vitest';
import { resultProblems } from '../src/shard/result-schema.js';
import { METRICS } from '../src/analysis/index.js';
import { erroredResult } from '../src/shard/worker.js';
import { sweepExitCode } from '../src/cli/commands/run.js';
import { ENGINE_VERSION } from '../src/engine/index.js';
import type { RunSpec } from '../src/shard/types.js';

const spec: RunSpec = {
  strategy: 'sma-cross', params: {}, venue: 'binance-usdm', setup: 'cross', leverage: 3, dataset: 'd', timeframe: '1h', symbols: ['BTCUSDT'],
  from: null, to: null, initialCapital: '10000', execution: {}, dataHashes: {}, engineVersion: ENGINE_VERSION,
};

describe("an ok result's books balance (a hand-edited or damaged file does not)", () => {
  it('names the books that do not balance, and a deposit that is not the run\'s capital (65 where the report reads it)', () => {
    const { error: _e, ...base } = erroredResult('r5', spec, 'x');
    const metrics = Object.fromEntries(METRICS.map((m) => [m.id, null]));
    const books = { initialDeposit: '10000', wallet: '9368.4', realizedPnl: '-500.25', fees: '12.35', fundingReceived: '3', fundingPaid: '120', liquidationPenalties: '2', insuranceDraws: '0' };
    expect(resultProblems({ ...base, status: 'ok', metrics, books })).toEqual([]);
    expect(resultProblems({ ...base, status: 'ok', metrics, books: { ...books, wallet: '109900' } })).toEqual([
      'books: do not balance (initialDeposit + realizedPnl − fees + fundingReceived − fundingPaid − liquidationPenalties + insuranceDraws is -100531.6 away from wallet 109900): the file was edited or damaged; run it again',
    ]);
    expect(resultProblems({ ...base, status: 'ok', metrics, books: { ...books, fees: '0.000000001' } })[0]).toMatch(/^books: do not balance \(.* is 12\.349999999 away from wallet 9368\.4\)/);
    expect(resultProblems({ ...base, status: 'ok', metrics, books: { ...books, initialDeposit: '20000', wallet: '19368.4' } })).toEqual([
      "books.initialDeposit: 20000 is not the run's initial capital 10000 (spec.initialCapital): the file was edited or damaged; run it again",
    ]);
    // an errored run's books (where it stopped) and books not carried in full are not judged
    expect(resultProblems({ ...base, status: 'errored', error: 'x', metrics, books: { ...books, wallet: '1' } })).toEqual([]);
  });
});

describe('RunResult: a union on status', () => {
  it('an errored result needs its error; an ok result must not carry one', () => {
    const errored = erroredResult('r1', spec, 'strategy threw: boom');
    expect(resultProblems(errored)).toEqual([]);
    expect(resultProblems({ ...errored, error: undefined })[0]).toMatch(/^error: /);
    expect(resultProblems({ ...errored, error: '' })[0]).toMatch(/^error: /);
    const { error: _e, ...base } = errored;
    const allMetrics = Object.fromEntries(METRICS.map((m) => [m.id, null]));
    expect(resultProblems({ ...base, status: 'ok', metrics: allMetrics })).toEqual([]);
    expect(resultProblems({ ...errored, status: 'ok' })[0]).toMatch(/^error: /);
    expect(resultProblems({ ...errored, status: 'done' })[0]).toMatch(/^status: /);
    // a member the file lacks is said missing (a result `{}` read "status: …, got {}", as if status were {})
    expect(resultProblems({})).toEqual(["status: missing (Invalid discriminator value. Expected 'ok' | 'errored')"]);
    const { runId: _r, ...noId } = errored;
    expect(resultProblems(noId)).toEqual(['runId: missing (expected a string)']);
    const { spec: _s, ...noSpec } = errored;
    expect(resultProblems(noSpec)[0]).toBe('spec: missing (expected an object)');
  });
  it('an ok result stores every metric of the registry (null when undefined): a missing one is named, not read as null', () => {
    const { error: _e, ...base } = erroredResult('r4', spec, 'x');
    const metrics: Record<string, number | null> = Object.fromEntries(METRICS.map((m) => [m.id, 1]));
    expect(resultProblems({ ...base, status: 'ok', metrics })).toEqual([]);
    const { totalReturn: _t, ...without } = metrics;
    expect(resultProblems({ ...base, status: 'ok', metrics: without })).toEqual(['metrics.totalReturn: missing (an ok result stores every metric, null when undefined; run it again)']);
    // an errored result keeps what was stored (its metrics are not shown)
    expect(resultProblems({ ...base, status: 'errored', error: 'x', metrics: {} })).toEqual([]);
    // a metric this version does not know (a newer writer) is kept
    expect(resultProblems({ ...base, status: 'ok', metrics: { ...metrics, later: 2 } })).toEqual([]);
  });
  it('an internal engine failure is marked internal: true (only on errored results)', () => {
    const internal = erroredResult('r2', spec, 'internal engine error: x', true);
    expect(internal.internal).toBe(true);
    expect(resultProblems(internal)).toEqual([]);
    expect('internal' in erroredResult('r3', spec, 'timeout')).toBe(false);
    const { error: _e, ...base } = internal;
    expect(resultProblems({ ...base, status: 'ok' })[0]).toMatch(/^internal: /);
  });
  it('run / stress exit 0 without failures, 1 with failures, 70 when any failure is internal', () => {
    expect(sweepExitCode([])).toBe(0);
    expect(sweepExitCode([{ internal: false }])).toBe(1);
    expect(sweepExitCode([{ internal: false }, { internal: true }])).toBe(70);
  });
});
