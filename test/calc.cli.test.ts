/** `marginlab calc` behaviour: order, {"error"} lines, exit codes, table-based inputs, the flag form. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { evaluate, evaluateLine } from '../src/venue/calc.js';
import { register } from '../src/cli/commands/calc.js';
import { UserError } from '../src/errors.js';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = (args: string[], input = '') => spawnSync(process.execPath, [CLI_BIN, ...args], { input, encoding: 'utf8', cwd: root });

describe('marginlab calc (JSON Lines)', () => {
  it('answers in order, an {"error"} line for each bad line, blank lines skipped, exit 65', () => {
    const lines = [
      '{"op":"fundingFee","side":"short","qty":10,"price":2,"rate":0.0001}',
      '{"op":"tradePnl","side":"long","qty":30,"entryPrice":2,"exitPrice":2.1,"feeRateOpen":0.0025,"feeRateClose":0.0025,"fundingReceived":1}',
      '',
      '{"op":"liquidationPrice","venue":"binance-usdm","mode":"isolated","side":"long","qty":1,"entryPrice":30000}',
      'not json',
      '{"op":"marginRatio","walletBalance":100,"unrealizedPnl":-100,"maintenanceMargin":5}',
      '{"op":"bankruptcyPrice","side":"short","entryPrice":10,"leverage":2}',
      '{"op":"liquidationPrice","venue":"kraken","side":"long","qty":1,"entryPrice":1,"walletBalance":1,"mmr":0.01}',
      '{"op":"fundingFee","side":"up","qty":1,"price":1,"rate":0}',
    ];
    const r = cli(['calc'], lines.join('\n') + '\n');
    expect(r.status).toBe(65);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(8);
    expect(out[0]).toEqual({ received: 0.002 });
    expect(out[1]).toEqual({ pnl: 3.6925 });
    expect(out[2].error).toMatch(/walletBalance/);
    expect(out[3].error).toMatch(/not valid JSON/);
    expect(out[4]).toEqual({ marginBalance: 0, marginRatio: null, liquidated: true });
    expect(out[5]).toEqual({ bankruptcyPrice: 15 });
    expect(out[6].error).toMatch(/unknown venue "kraken".*binance-usdm/);
    expect(out[7].error).toMatch(/"side" must be "long" or "short"/);
  });

  it('exit 0 when every line is handled', () => {
    const r = cli(['calc'], '{"op":"bankruptcyPrice","side":"long","entryPrice":10000,"leverage":50}\n');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ bankruptcyPrice: 9800 });
  });
});

describe('calc answers from a default table', () => {
  it('a symbol without a tier table of its own is said in the answer\'s "note", with the nearest that has one; a symbol with one has no note', () => {
    const line = (symbol: string) => JSON.parse(evaluateLine(JSON.stringify({ op: 'liquidationPrice', venue: 'binance-usdm', side: 'long', qty: 1, entryPrice: 100, leverage: 10, symbol })).text) as Record<string, unknown>;
    expect(line('BTCUSDTT').note).toBe("binance-usdm has no tier table of its own for BTCUSDTT (did you mean 'BTCUSDT'?): the venue's default brackets are used");
    expect(line('BTCUSDT').note).toBeUndefined();
    const tiers = JSON.parse(evaluateLine(JSON.stringify({ op: 'maintenanceTier', venue: 'binance-usdm', notional: 1000, symbol: 'ETHUSDTT' })).text) as Record<string, unknown>;
    expect(tiers.note).toMatch(/no tier table of its own for ETHUSDTT \(did you mean 'ETHUSDT'\?\)/);
  });
});

describe('calc line errors', () => {
  it('a line that is not an object, without "op", or with an unknown op gets one {"error"} naming the known ops', () => {
    const err = (line: string) => {
      const r = evaluateLine(line);
      expect(r.ok).toBe(false);
      return (JSON.parse(r.text) as { error: string }).error;
    };
    expect(err('[1,2]')).toBe('each line must be a JSON object');
    expect(err('{"side":"long"}')).toMatch(/^"op" is required; one of liquidationPrice, bankruptcyPrice, .*position$/);
    expect(err('{"op":"liq"}')).toMatch(/^unknown op "liq"; known ops: liquidationPrice, /);
    expect(err('{"op":"liquidationPrice","venue":"binance","mode":"hedge","side":"long","qty":1,"entryPrice":1}')).toBe('"mode" must be "isolated" or "cross", got "hedge"');
  });
});

describe('calc times', () => {
  it('a date-time without an offset is UTC whatever the local time zone (JSON ops and --as-of)', async () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(new Date(2021, 8, 1).getTimezoneOffset()).toBe(240); // the zone took effect
      const fees = (time: string) => evaluate({ op: 'fundingFees', side: 'long', qty: 1, openTime: '2021-09-01 07:59:00Z', closeTime: '2021-09-01 08:30:00Z', events: [{ time, rate: 0.001, price: 100 }] });
      expect(fees('2021-09-01 08:00:00')).toEqual({ received: -0.1 });
      expect(fees('2021-09-01T08:00')).toEqual({ received: -0.1 });
      // 22:00 UTC on 2026-05-02 is before the 2026-05-03 BTCUSDT table (2024-10: 0.4 % up to 50k, 2026-05: 300k)
      const text = await liq(['--venue', 'binance-usdm', '--side', 'long', '--entry', '30000', '--qty', '1', '--wallet', '1500', '--symbol', 'BTCUSDT', '--as-of', '2026-05-02T22:00']);
      expect(text).toContain('table: binance-usdm BTCUSDT 2024-10-24');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

describe('calc ops with tier tables', () => {
  it('Binance isolated from the symbol table at asOf, with tier re-selection', () => {
    const a = evaluate({ op: 'liquidationPrice', venue: 'binance-usdm', mode: 'isolated', side: 'long', qty: 1, entryPrice: 30000, walletBalance: 1500, symbol: 'BTCUSDT', asOf: '2025-01-01' });
    expect(a.liquidationPrice).toBeCloseTo((1500 - 30000) / (0.004 - 1), 9);
  });
  it('maintenanceTier from a venue table and from given tiers (recurrence, maxLeverage null when not given)', () => {
    expect(evaluate({ op: 'maintenanceTier', venue: 'binance-usdm', symbol: 'ETHUSDT', asOf: '2026-06-01', notional: 400000 })).toEqual({ mmr: 0.005, maintenanceAmount: 300, maxLeverage: 100 });
    expect(evaluate({ op: 'maintenanceTier', notional: 60000, tiers: [{ minNotional: 0, mmr: 0.004 }, { minNotional: 50000, mmr: 0.005 }] })).toEqual({ mmr: 0.005, maintenanceAmount: 50, maxLeverage: null });
  });
  it('cross with other legs at mark, tiers from symbols; Hyperliquid cross; OKX default taker', () => {
    const withTables = evaluate({
      op: 'liquidationPrice',
      venue: 'binance-usdm',
      mode: 'cross',
      walletBalance: 10000,
      target: 'BTCUSDT',
      asOf: '2025-01-01',
      positions: [
        { symbol: 'BTCUSDT', side: 'long', qty: 1, entryPrice: 30000, markPrice: 30000 },
        { symbol: 'ETHUSDT', side: 'short', qty: 10, entryPrice: 2000, markPrice: 2100 },
      ],
    });
    // WB' = 10000 − 1000 (ETH uPnL) − 21000×0.4 % (ETH MM) = 8916
    expect(withTables.liquidationPrice).toBeCloseTo((8916 - 30000) / (0.004 - 1), 6);
    const hl = evaluate({ op: 'liquidationPrice', venue: 'hyperliquid', mode: 'cross', side: 'long', qty: 0.0015, entryPrice: 66930, margin: 20.043862, maxLeverage: 50 });
    expect(hl.liquidationPrice).toBeCloseTo(54108.51043771, 3);
    const okx = evaluate({ op: 'liquidationPrice', venue: 'okx', mode: 'isolated', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, mmr: 0.01 });
    expect(okx.liquidationPrice).toBeCloseTo((10 - 2) / (1 - 0.0105), 12);
    expect(evaluate({ op: 'liquidationPrice', venue: 'binance-usdm', mode: 'isolated', side: 'long', qty: 1, entryPrice: 100, walletBalance: 200, mmr: 0.01, maintenanceAmount: 0 })).toEqual({ liquidationPrice: null });
  });
});

describe('marginlab calc liq (flags)', () => {
  it('prints the answer and one line per term', () => {
    const r = cli(['calc', 'liq', '--venue', 'binance-usdm', '--side', 'long', '--entry', '30000', '--qty', '1', '--leverage', '20', '--wallet', '1500', '--symbol', 'BTCUSDT', '--as-of', '2025-01-01']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`liquidation price: ${Number(((1500 - 30000) / (0.004 - 1)).toPrecision(12))}`);
    for (const term of ['venue', 'side', 'qty', 'entry', 'WB', 'leverage', 'MMR, cum', 'bankruptcy']) expect(lines.some((l) => l.trimStart().startsWith(term))).toBe(true);
    const j = cli(['calc', 'liq', '--venue', 'bybit-linear', '--side', 'short', '--entry', '10', '--qty', '1', '--leverage', '5', '--mmr', '0.01', '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ liquidationPrice: 11.9, bankruptcyPrice: 12 });
    // without --venue: binance-usdm, and the answer says it was the default
    const d = cli(['calc', 'liq', '--side', 'long', '--entry', '30000', '--qty', '1', '--leverage', '20', '--wallet', '1500', '--symbol', 'BTCUSDT', '--as-of', '2025-01-01']);
    expect(d.status).toBe(0);
    expect(d.stdout.split('\n')[0]).toBe(lines[0]);
    expect(d.stdout).toMatch(/venue\s+binance-usdm \(the default venue: no --venue given/);
    const dj = cli(['calc', 'liq', '--side', 'long', '--entry', '30000', '--qty', '1', '--leverage', '20', '--json']);
    expect(JSON.parse(dj.stdout)).toMatchObject({ venue: 'binance-usdm', venueDefaulted: true });
  });
  it('bad flags are usage errors (64) with one line', () => {
    const r = cli(['calc', 'liq', '--venue', 'binance-usdm', '--side', 'long', '--entry', 'abc', '--qty', '1', '--wallet', '1']);
    expect(r.status).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--entry/);
  });
});

/** `calc liq` through its commander definition, in process: the printed text, or the UserError thrown */
async function liq(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['calc', 'liq', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}
const liqJson = async (args: string[]) => JSON.parse(await liq([...args, '--json'])) as { liquidationPrice: number | null; bankruptcyPrice: number | null };
const usage = async (args: string[]): Promise<string> => {
  const e = await liq(args).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UserError);
  expect((e as UserError).exitCode).toBe(64);
  return (e as UserError).message;
};

describe('marginlab calc liq: every flag', () => {
  const base = ['--side', 'long', '--entry', '100', '--qty', '1'];

  it('says when the answer is hypothetical (already past the price at entry, leverage above the tier maximum); refuses an overflowing size', async () => {
    const under = await liq(['--side', 'long', '--entry', '30000', '--qty', '1000', '--wallet', '1500']);
    expect(under).toMatch(/^note: the position is already at or past its liquidation price at the entry .*liquidate it at once$/m);
    const lev = JSON.parse(await liq(['--side', 'long', '--entry', '30000', '--qty', '1', '--leverage', '1e9', '--json'])) as { notes?: string[] };
    expect(lev.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^leverage 1000000000x is above the \d+x maximum of the tier at the entry notional 30000: a venue would refuse the order$/)]));
    // a plain position has no notes
    expect(JSON.parse(await liq(['--side', 'long', '--entry', '30000', '--qty', '1', '--leverage', '20', '--json']))).not.toHaveProperty('notes');
    expect(await usage(['--side', 'short', '--entry', '30000', '--qty', '1e305', '--leverage', '20', '--wallet', '1500'])).toMatch(/overflows a number/);
  });

  it('--cum is the maintenance amount with --mmr (Binance: LP = (WB + cum − Q·EP) / (Q·MMR − Q))', async () => {
    const args = ['--venue', 'binance', ...base, '--wallet', '10', '--mmr', '0.01'];
    expect((await liqJson(args)).liquidationPrice).toBeCloseTo(90 / 0.99, 9);
    expect((await liqJson([...args, '--cum', '50'])).liquidationPrice).toBeCloseTo(40 / 0.99, 9);
  });

  it('--mode cross explains WB as the cross wallet; --mode other than isolated/cross is a usage error', async () => {
    const text = await liq(['--venue', 'binance-usdm', ...base, '--wallet', '10', '--mode', 'cross']);
    expect(text).toContain('binance-usdm (cross):');
    expect(text).toMatch(/WB\s+10 \(cross wallet balance \(no other positions\)\)/);
    expect(await usage(['--venue', 'binance-usdm', ...base, '--wallet', '10', '--mode', 'hedge'])).toBe('--mode: expected isolated or cross, got "hedge"');
  });

  it('--symbol and --as-of pick the dated table; without --symbol the default table is named', async () => {
    const args = ['--venue', 'binance-usdm', '--side', 'long', '--entry', '30000', '--qty', '1', '--wallet', '1500'];
    expect(await liq([...args, '--symbol', 'BTCUSDT', '--as-of', '2025-01-01'])).toContain('table: binance-usdm BTCUSDT 2024-10-24');
    expect(await liq([...args, '--symbol', 'BTCUSDT', '--as-of', '2026-06-01'])).toContain('table: binance-usdm BTCUSDT 2026-05-03');
    expect(await liq(args)).toContain("pass --symbol for a symbol's table");
    // a symbol without a table of its own (a misspelt major) is said, with the near name: it gave the small-cap table's price in silence
    expect(await liq([...args, '--symbol', 'BTCUSDTT'])).toContain("note: binance-usdm has no tier table of its own for BTCUSDTT (did you mean 'BTCUSDT'?): the venue's default brackets are used");
    expect(await liq([...args, '--symbol', 'QQQZZZXUSDT'])).toMatch(/note: binance-usdm has no tier table of its own for QQQZZZXUSDT: the venue's default brackets are used$/m);
    expect(await liq([...args, '--symbol', 'BTCUSDT'])).not.toContain('no tier table');
    // the rate given by hand answers, not the default table: no note (as the JSON op with maxLeverage)
    expect(await liq(['--venue', 'hyperliquid', '--side', 'long', '--entry', '30000', '--qty', '1', '--wallet', '5000', '--symbol', 'BTCX', '--max-leverage', '40'])).not.toContain('no tier table');
    expect(await liq([...args, '--symbol', 'BTCUSDTT', '--mmr', '0.01'])).not.toContain('no tier table');
    expect(await usage([...args, '--as-of', 'someday'])).toBe('--as-of: expected an ISO date, got "someday"');
  });

  it('--max-leverage sets the Hyperliquid maintenance rate (verified position: 54108.51)', async () => {
    const args = ['--venue', 'hl', '--side', 'long', '--entry', '66930', '--qty', '0.0015', '--wallet', '20.043862'];
    expect((await liqJson([...args, '--max-leverage', '50'])).liquidationPrice).toBeCloseTo(54108.51043771, 6);
    // without it: the venue default table (10x → l = 5 %)
    expect((await liqJson(args)).liquidationPrice).toBeCloseTo(56386.763508772, 6);
    expect(await liq([...args, '--max-leverage', '50'])).toMatch(/maxLeverage\s*50x → maintenance rate l = 0\.01/);
  });

  it('--taker enters the OKX liquidation condition, with --mmr and with the tier table', async () => {
    const args = ['--venue', 'okx', '--side', 'long', '--entry', '10', '--qty', '1', '--wallet', '2'];
    expect((await liqJson([...args, '--mmr', '0.01'])).liquidationPrice).toBeCloseTo(8 / (1 - 0.0105), 12);
    expect((await liqJson([...args, '--mmr', '0.01', '--taker', '0.001'])).liquidationPrice).toBeCloseTo(8 / (1 - 0.011), 12);
    expect((await liqJson([...args, '--taker', '0.001'])).liquidationPrice).toBeCloseTo(8 / (1 - 0.011), 12);
    // the flags' checks and the JSON keys' are one rule (math-exact.ts givenSign): -0 is a rate of 0 in both
    // (the flag refused it), a negative too small for a number is refused in both
    expect((await liqJson([...args, '--mmr', '0.01', '--taker', '-0'])).liquidationPrice).toBeCloseTo(8 / (1 - 0.01), 12);
    expect(evaluate({ op: 'liquidationPrice', venue: 'okx', mode: 'isolated', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, mmr: 0.01, takerFee: '-0' })).toEqual({ liquidationPrice: 8 / (1 - 0.01) });
    const tiny = cli(['calc', 'liq', ...args, '--mmr', '0.01', '--taker', '-1e-99999999999999999']);
    expect(tiny.status).toBe(64);
    expect(tiny.stderr).toContain('--taker: expected a rate in [0, 1), got -1e-99999999999999999');
    expect(() => evaluate({ op: 'liquidationPrice', venue: 'okx', mode: 'isolated', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, mmr: 0.01, takerFee: '-1e-99999999999999999' })).toThrow('"takerFee" must be a rate in [0, 1), got -1e-99999999999999999');
  });

  it('--extra-margin moves the Bybit price by extra/Q', async () => {
    const args = ['--venue', 'bybit', '--side', 'short', '--entry', '10', '--qty', '1', '--leverage', '5', '--mmr', '0.01'];
    expect(await liqJson(args)).toEqual({ liquidationPrice: 11.9, bankruptcyPrice: 12 });
    expect((await liqJson([...args, '--extra-margin', '0.5'])).liquidationPrice).toBeCloseTo(12.4, 12);
  });

  it('--leverage alone gives the wallet qty × entry / leverage', async () => {
    expect(await liqJson(['--venue', 'binance', ...base, '--leverage', '10', '--mmr', '0'])).toEqual({ liquidationPrice: 90, bankruptcyPrice: 90 });
  });

  it('bad venue, side, numbers and a missing margin are one-line usage errors (64)', async () => {
    expect(await usage(['--venue', 'kraken', ...base, '--wallet', '1'])).toBe('--venue: unknown venue "kraken"; known venues: binance-usdm, bybit-linear, hyperliquid, okx');
    expect(await usage(['--venue', 'binance', '--side', 'up', '--entry', '100', '--qty', '1', '--wallet', '1'])).toBe('--side: expected long or short, got "up"');
    expect(await usage(['--venue', 'binance', ...base])).toBe('give --wallet (the position margin) or --leverage (margin = qty × entry / leverage)');
    expect(await usage(['--venue', 'binance', ...base, '--leverage', '0.5'])).toBe('--leverage: expected a number ≥ 1, got 0.5');
    // "> 0", not "≥ 5e-324" (Number.MIN_VALUE)
    expect(await usage(['--venue', 'binance', '--side', 'long', '--entry', '100', '--qty', '0', '--wallet', '1'])).toBe('--qty: expected a positive number, got 0');
    expect(await usage(['--venue', 'binance', '--side', 'long', '--entry', '-5', '--qty', '1', '--wallet', '1'])).toBe('--entry: expected a positive number, got -5');
    expect(await usage(['--venue', 'binance', ...base, '--wallet', 'x'])).toBe('--wallet: expected a number, got "x"');
  });
});

describe("the README's calc example", () => {
  it('prints what the README shows (it showed the doubles\' 26316.893264518858 after calc moved to decimals)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const m = /^echo '(\{"op":[^\n]*\})' \| npx marginlab calc\n(\{[^\n]*\})/m.exec(readme);
    expect(m).not.toBeNull();
    const r = cli(['calc'], m![1]! + '\n');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(m![2]!);
  });
});
