/** `marginlab calc` review: inputs a demanding user sends (independent decimal reference in the comments). */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { evaluate, evaluateLine } from '../src/venue/calc.js';
import { runCalcLiq, runCalcStream } from '../src/venue/calc-cli.js';
import { UserError } from '../src/errors.js';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = (args: string[], input: string | Buffer = '', stdin?: number) =>
  spawnSync(process.execPath, [CLI_BIN, ...args], { input, encoding: 'utf8', cwd: root, ...(stdin !== undefined ? { stdio: [stdin, 'pipe', 'pipe'] } : {}) });

/** runCalcStream over `chunks` (strings or buffers, as they arrive): the output lines and the exit code */
async function stream(chunks: (string | Buffer)[], opts?: Parameters<typeof runCalcStream>[2]) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const code = await runCalcStream(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), out, opts);
  return { code, lines: text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('calc liquidationPrice, okx', () => {
  it('takerFee enters the condition with a symbol tier table too (not only with mmr)', () => {
    // default okx table tier 1: MMR 1 %; LP = (EP − M/Q) / (1 − (MMR + taker)) = 8 / (1 − 0.011)
    const line = { op: 'liquidationPrice', venue: 'okx', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, symbol: 'XYZUSDT' };
    expect(evaluate({ ...line, takerFee: 0.001 }).liquidationPrice).toBeCloseTo(8 / (1 - 0.011), 12);
    expect(evaluate({ ...line, takerFee: 0 }).liquidationPrice).toBeCloseTo(8 / (1 - 0.01), 12);
    expect(evaluate(line).liquidationPrice).toBeCloseTo(8 / (1 - 0.0105), 12);
  });
});

describe('calc liquidationPrice, okx cross', () => {
  it('takerFee is the add-on of the other legs\' maintenance margin and of the target', () => {
    const line = (takerFee?: number) => ({
      op: 'liquidationPrice', venue: 'okx', mode: 'cross', walletBalance: 1000, target: 'AUSDT', ...(takerFee === undefined ? {} : { takerFee }),
      positions: [
        { symbol: 'AUSDT', side: 'long', qty: 1, entryPrice: 1000, markPrice: 1000, mmr: 0.01 },
        { symbol: 'BUSDT', side: 'short', qty: 10, entryPrice: 100, markPrice: 110, mmr: 0.01 },
      ],
    });
    // WB' = 1000 − 100 (B uPnL) − 1100 × (0.01 + t); LP = (EP − WB'/Q) / (1 − (0.01 + t))
    const lp = (t: number) => (1000 - (900 - 1100 * (0.01 + t))) / (1 - (0.01 + t));
    expect(evaluate(line(0.001)).liquidationPrice).toBeCloseTo(lp(0.001), 9);
    expect(evaluate(line()).liquidationPrice).toBeCloseTo(lp(0.0005), 9);
  });
});

describe('calc op and venue names', () => {
  it('names of Object.prototype members are unknown ops and venues, not a copy of the input or an internal error', () => {
    for (const op of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const r = evaluateLine(JSON.stringify({ op, side: 'long' }));
      expect(r.ok).toBe(false);
      expect(JSON.parse(r.text).error).toMatch(new RegExp(`^unknown op "${op}"; known ops: liquidationPrice, `));
    }
    for (const venue of ['constructor', '__proto__', 'toString']) {
      const r = evaluateLine(JSON.stringify({ op: 'liquidationPrice', venue, side: 'long', qty: 1, entryPrice: 1, walletBalance: 1, mmr: 0.01 }));
      expect(JSON.parse(r.text).error).toBe(`unknown venue "${venue}"; known venues: binance-usdm, bybit-linear, hyperliquid, okx`);
    }
  });
});

describe('calc keys', () => {
  const err = (o: object) => {
    const r = evaluateLine(JSON.stringify(o));
    expect(r.ok).toBe(false);
    return (JSON.parse(r.text) as { error: string }).error;
  };
  it('a misspelt optional key is an error naming it and the known keys, not silently ignored', () => {
    expect(err({ op: 'liquidationPrice', venue: 'okx', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, mmr: 0.01, takerfee: 0.001 })).toBe(
      'unknown key "takerfee" for liquidationPrice on okx (isolated); known keys: op, venue, mode, side, qty, entryPrice, walletBalance, leverage, takerFee, mmr, maintenanceAmount, symbol, asOf',
    );
    expect(err({ op: 'fundingFees', side: 'long', qty: 1, openTime: 0, closeTIme: 1, events: [] })).toMatch(/^unknown key "closeTIme" for fundingFees; known keys: /);
    expect(err({ op: 'tradePnl', side: 'long', qty: 1, entryPrice: 1, exitPrice: 2, fundingRecieved: 1 })).toMatch(/^unknown key "fundingRecieved" for tradePnl/);
    expect(err({ op: 'fundingFee', side: 'long', qyt: 1, price: 1, rate: 0.001 })).toMatch(/^unknown key "qyt" for fundingFee; known keys: op, side, qty, price, rate$/);
    // a key of another venue's formula
    expect(err({ op: 'liquidationPrice', venue: 'binance', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, mmr: 0.01, takerFee: 0.001 })).toMatch(/^unknown key "takerFee" for liquidationPrice on binance-usdm/);
    expect(err({ op: 'liquidationPrice', venue: 'bybit', side: 'long', qty: 1, entryPrice: 10, leverage: 5, mmr: 0.01, walletBalance: 9 })).toMatch(/^unknown key "walletBalance" for liquidationPrice on bybit-linear/);
    // isolated lines take no positions
    expect(err({ op: 'liquidationPrice', venue: 'binance', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, mmr: 0.01, positions: [] })).toMatch(/^unknown key "positions"/);
    expect(err({ op: 'liquidationPrice', venue: 'binance', mode: 'cross', walletBalance: 2, target: 'A', positions: {} })).toMatch(/^"positions" must be an array/);
  });
  it('keys inside positions, tiers and events are checked too', () => {
    const leg = { symbol: 'BTCUSDT', side: 'long', qty: 1, entryPrice: 100, markPrice: 100, mmr: 0.01 };
    expect(err({ op: 'liquidationPrice', venue: 'binance', mode: 'cross', walletBalance: 20, target: 'BTCUSDT', positions: [leg, { ...leg, symbol: 'ETHUSDT', markprice: 90 }] })).toMatch(/^positions\[1\]: unknown key "markprice" for a position; known keys: symbol, side, qty, entryPrice, markPrice, /);
    expect(err({ op: 'maintenanceTier', notional: 5, tiers: [{ minNotional: 0, mmr: 0.01, maxLev: 50 }] })).toMatch(/^tiers\[0\]: unknown key "maxLev" for a tier/);
    expect(err({ op: 'maintenanceTier', notional: 5, tiers: [{ minNotional: 0, mmr: 0.01 }], symbol: 'BTCUSDT' })).toMatch(/^unknown key "symbol" for maintenanceTier with "tiers"/);
    expect(err({ op: 'fundingFees', side: 'long', qty: 1, openTime: 0, events: [{ time: 0, rate: 0.001, markPrice: 5 }] })).toMatch(/^events\[0\]: unknown key "markPrice" for a funding event; known keys: time, rate, price$/);
  });
  it('maintenanceAmount without mmr (a symbol table has its own) is an error, not ignored', () => {
    expect(err({ op: 'liquidationPrice', venue: 'binance', side: 'long', qty: 1, entryPrice: 30000, walletBalance: 1500, symbol: 'BTCUSDT', maintenanceAmount: 50 })).toBe('"maintenanceAmount" goes with "mmr" (one tier given by hand); a symbol\'s table has its own');
  });
  it('fundingRate is Hyperliquid\'s formula: another venue is refused', () => {
    expect(evaluate({ op: 'fundingRate', venue: 'hl', premium: 0.01 })).toEqual({ fundingRate8h: 0.0095, fundingRateHourly: 0.0011875 });
    expect(err({ op: 'fundingRate', venue: 'binance', premium: 0.01 })).toMatch(/^fundingRate is Hyperliquid's formula/);
  });
});

const FEE = '{"op":"fundingFee","side":"long","qty":1,"price":2,"rate":0.0001}';

describe('calc stream: line length and input errors', () => {
  it('a line longer than the limit gets one {"error"} line and the stream goes on, memory bounded', async () => {
    const long = `{"op":"fundingFee","pad":"${'x'.repeat(5000)}"}`;
    // the long line arrives in pieces, split mid-line and with its newline in a later chunk
    const r = await stream([FEE + '\n' + long.slice(0, 100), long.slice(100, 3000), long.slice(3000) + '\n' + FEE, '\n'], { maxLineBytes: 1000 });
    expect(r.code).toBe(65);
    expect(r.lines).toHaveLength(3);
    expect(r.lines[0]).toEqual({ received: -0.0002 });
    expect(r.lines[1]).toEqual({ error: 'the line is longer than 1000 bytes, the limit of one input line; it was skipped', line: 2 });
    expect(r.lines[2]).toEqual({ received: -0.0002 });
  });
  it('a line split across chunks, in the middle of a UTF-8 character, is read whole', async () => {
    const line = Buffer.from('{"op":"fundingFee","side":"long","qty":1,"price":2,"rate":0.0001}\r\n{"op":"fundingFee","side":"lång"}\n');
    const at = line.indexOf(Buffer.from('å')) + 1;
    const r = await stream([line.subarray(0, 10), line.subarray(10, at), line.subarray(at)]);
    expect(r.lines[0]).toEqual({ received: -0.0002 });
    expect(r.lines[1]!.error).toContain('"lång"');
  });
  it('a last line without a newline is answered', async () => {
    expect((await stream([FEE + '\n' + FEE])).lines).toHaveLength(2);
  });
  it('stdin that cannot be read (a folder) is one line, exit 66, not a silent exit 0', async () => {
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(root, 'r');
    try {
      const r = cli(['calc'], '', fd);
      expect(r.status).toBe(66);
      expect(r.stderr).toBe('marginlab: cannot read standard input: it is a folder, not a file; redirect a JSON Lines file (npx marginlab calc < lines.jsonl) or pipe into npx marginlab calc\n');
    } finally {
      closeSync(fd);
    }
  });
});

describe('calc stream: where the bad lines are', () => {
  it('an {"error"} line gives the input line number (blank lines counted), and stderr says how many lines failed', () => {
    const r = cli(['calc'], [FEE, '', '   ', '{"op":"fundingFee"', FEE, '{"op":"nope"}', ''].join('\r\n'));
    expect(r.status).toBe(65);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).toHaveLength(4);
    expect(out[1]).toMatchObject({ line: 4 });
    expect(out[1]!.error).toMatch(/^not valid JSON/);
    expect(out[3]).toEqual({ error: 'unknown op "nope"; known ops: liquidationPrice, bankruptcyPrice, maintenanceTier, fundingFee, fundingFees, fundingRate, tradePnl, marginRatio, position', line: 6 });
    expect(r.stderr).toBe('marginlab: calc: 2 of 4 input lines answered with {"error"} on stdout (the first at line 4); exit 65\n');
  });
});

describe('calc error messages', () => {
  const err = (line: string) => (JSON.parse(evaluateLine(line).text) as { error: string }).error;
  it('a number too large for a double says so (JSON.parse made it Infinity), not "got null"', () => {
    expect(err('{"op":"fundingFee","side":"long","qty":1e400,"price":2,"rate":0.0001}')).toBe('"qty" is too large for a number (above 1.8e308)');
    expect(err('{"op":"fundingFee","side":"long","qty":-1e400,"price":2,"rate":0.0001}')).toBe('"qty" is too large for a number (above 1.8e308)');
  });
  it('an answer beyond a double is an error line, not null (JSON writes Infinity as null, which reads "no price")', () => {
    // each answered {"received": null}, {"pnl": null}, {"liquidationPrice": null}, … before
    const cases: [object, RegExp][] = [
      [{ op: 'fundingFee', side: 'long', qty: 1e300, price: 1e300, rate: 0.0075 }, /"received" of the answer does not fit a number/],
      [{ op: 'fundingFees', side: 'long', qty: 1e300, openTime: 0, events: [{ time: 1, rate: 0.0075, price: 1e300 }] }, /"received" of the answer/],
      [{ op: 'tradePnl', side: 'long', qty: 1e300, entryPrice: 1e300, exitPrice: 2e300 }, /"pnl" of the answer/],
      [{ op: 'tradePnl', side: 'short', qty: 1, entryPrice: 1, exitPrice: 1.1, feeRateOpen: 1, leverage: 125 }, /"profitRatio" of the answer .*division by zero/],
      [{ op: 'position', side: 'long', qty: 1e300, entryPrice: 1e300, markPrice: 2e300 }, /"notional" of the answer/],
      [{ op: 'marginRatio', walletBalance: 1e308, unrealizedPnl: 1e308, maintenanceMargin: 1 }, /"marginBalance" of the answer/],
      [{ op: 'liquidationPrice', venue: 'binance-usdm', side: 'long', qty: 1e200, entryPrice: 1e200, leverage: 125, mmr: 0.004 }, /^"qty" × "entryPrice" \(1e\+200 × 1e\+200\) overflows a number/],
      [{ op: 'liquidationPrice', venue: 'hyperliquid', side: 'short', qty: 1e200, entryPrice: 1e200, margin: 1, maxLeverage: 50 }, /overflows a number/],
      [{ op: 'liquidationPrice', venue: 'bybit-linear', side: 'short', qty: 1e200, entryPrice: 1e200, leverage: 5, mmr: 0.01 }, /overflows a number/],
      [{ op: 'liquidationPrice', venue: 'binance-usdm', mode: 'cross', walletBalance: 1000, target: 'A', positions: [{ symbol: 'A', side: 'long', qty: 1e200, entryPrice: 1e200, markPrice: 1, mmr: 0.004 }] }, /^positions\[0\]: "qty" × "entryPrice"/],
      [{ op: 'liquidationPrice', venue: 'binance-usdm', mode: 'cross', walletBalance: 1e308, target: 'A', positions: [{ symbol: 'A', side: 'long', qty: 1, entryPrice: 1, markPrice: 1, mmr: 0.004 }, { symbol: 'B', side: 'long', qty: 1e150, entryPrice: 1e150, markPrice: 1e158, mmr: 0.004 }] }, /other positions' uPnL and maintenance margin overflow/],
      [{ op: 'bankruptcyPrice', side: 'short', entryPrice: 1e300, qty: 1e-10, walletBalance: 1e300 }, /"walletBalance" ÷ "qty" .* overflows a number/],
    ];
    for (const [line, msg] of cases) expect(err(JSON.stringify(line))).toMatch(msg);
    // prices that do not exist are still null, and large but finite answers are numbers
    expect(evaluate({ op: 'bankruptcyPrice', side: 'long', entryPrice: 100, leverage: 1 })).toEqual({ bankruptcyPrice: null });
    expect(evaluate({ op: 'fundingFee', side: 'short', qty: 1e12, price: 1e9, rate: 0.0075 })).toEqual({ received: 7.5e18 });
  });
  it('a missing side is "required", and a value shown back is cut to 60 characters', () => {
    expect(err('{"op":"fundingFee","qty":1,"price":2,"rate":0.0001}')).toBe('"side" is required ("long" or "short")');
    const e = err(JSON.stringify({ op: 'fundingFee', side: 'x'.repeat(100000), qty: 1, price: 2, rate: 0.0001 }));
    expect(e).toBe(`"side" must be "long" or "short", got "${'x'.repeat(58)}…`);
    expect(e.slice(e.indexOf('got ') + 4)).toHaveLength(60);
    expect(err(JSON.stringify({ op: 'y'.repeat(1000) })).length).toBeLessThan(300);
    expect(err(JSON.stringify({ op: 'liquidationPrice', venue: 'v'.repeat(1000), side: 'long' })).length).toBeLessThan(200);
  });
});

describe('calc liq: flags the venue formula does not read', () => {
  const base = ['--side', 'long', '--entry', '100', '--qty', '1', '--wallet', '10'];
  const usage = (args: string[]) => {
    const r = cli(['calc', 'liq', ...args, '--json']);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    return r.stderr.trim();
  };
  it('are usage errors naming the flag and the venues it applies to, not ignored', () => {
    expect(usage(['--venue', 'binance', ...base, '--taker', '0.001'])).toBe('marginlab: --taker applies to okx only (the liquidation fee in its formula), not to binance-usdm');
    expect(usage(['--venue', 'okx', ...base, '--extra-margin', '5'])).toBe('marginlab: --extra-margin applies to bybit-linear only (margin added after opening), not to okx; add it to --wallet');
    expect(usage(['--venue', 'binance', ...base, '--max-leverage', '20'])).toBe('marginlab: --max-leverage applies to hyperliquid only (its MMR is 1/(2 × max leverage)), not to binance-usdm; give --mmr');
    expect(usage(['--venue', 'binance', ...base, '--cum', '5'])).toBe('marginlab: --cum goes with --mmr (one tier given by hand); a tier table has its own maintenance amounts');
  });
  it('hyperliquid: --mmr (which set the maintenance rate to 0) is refused for --max-leverage', () => {
    expect(usage(['--venue', 'hl', ...base, '--mmr', '0.01'])).toBe('marginlab: --mmr does not apply to hyperliquid: give --max-leverage (its MMR is 1/(2 × max leverage))');
  });
});

describe('calc numbers', () => {
  it('mmr is a rate in [0, 1) as in a tier table (1.5 gave "no price"), JSON and --mmr', () => {
    const r = evaluateLine(JSON.stringify({ op: 'liquidationPrice', venue: 'binance', side: 'long', qty: 1, entryPrice: 100, walletBalance: 10, mmr: 1.5 }));
    expect(JSON.parse(r.text).error).toBe('"mmr" must be a rate in [0, 1), got 1.5');
    const leg = { symbol: 'A', side: 'long', qty: 1, entryPrice: 100, markPrice: 100, mmr: 1 };
    expect(JSON.parse(evaluateLine(JSON.stringify({ op: 'liquidationPrice', venue: 'okx', mode: 'cross', walletBalance: 10, target: 'A', positions: [leg] })).text).error).toBe('positions[0]: "mmr" must be a rate in [0, 1), got 1');
    const c = cli(['calc', 'liq', '--side', 'long', '--entry', '100', '--qty', '1', '--wallet', '10', '--mmr', '1.5']);
    expect(c.status).toBe(64);
    expect(c.stderr).toBe('marginlab: --mmr: expected a rate in [0, 1), got 1.5\n');
  });
  it('a flag number is decimal: 0x10, 0b11 or 1_000 are refused, not read as 16, 3', () => {
    for (const v of ['0x10', '0b11', '0o7', '1_000']) {
      const c = cli(['calc', 'liq', '--side', 'long', '--entry', v, '--qty', '1', '--wallet', '10']);
      expect(c.status).toBe(64);
      expect(c.stderr).toBe(`marginlab: --entry: expected a number, got "${v}"\n`);
    }
    const ok = cli(['calc', 'liq', '--side', 'long', '--entry', '1e2', '--qty', '.5', '--wallet', '+10', '--mmr', '0', '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({ liquidationPrice: 80 });
  });
  it('--mmr alone has no tier maximum: the leverage line says none (it printed "tier maximum at entry notional nonex")', () => {
    const c = cli(['calc', 'liq', '--venue', 'binance-usdm', '--side', 'long', '--entry', '30000', '--qty', '1', '--leverage', '20', '--mmr', '0.004']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/\n  leverage +20x \(initial margin 1500\)\n/);
    expect(c.stdout).not.toContain('none');
  });
});

describe('calc decimal strings', () => {
  const ask = (o: Record<string, unknown>) => JSON.parse(evaluateLine(JSON.stringify(o)).text) as Record<string, unknown>;
  it('a decimal string reads as its number (result files write money as strings), nested inputs too', () => {
    const asNumbers = ask({ op: 'liquidationPrice', venue: 'binance', side: 'long', qty: 0.5, entryPrice: 30000, walletBalance: 1500, mmr: 0.004 });
    const asStrings = ask({ op: 'liquidationPrice', venue: 'binance', side: 'long', qty: '0.5', entryPrice: ' 3e4 ', walletBalance: '1500.00', mmr: '.004' });
    expect(asStrings).toEqual(asNumbers);
    // decimal ops stay exact: 0.1 × 3 × 0.0001 funding
    expect(ask({ op: 'fundingFee', side: 'short', qty: '3', price: '0.1', rate: '0.0001' })).toEqual(ask({ op: 'fundingFee', side: 'short', qty: 3, price: 0.1, rate: 0.0001 }));
    const leg = { symbol: 'A', side: 'long', qty: '1', entryPrice: '100', markPrice: '100', mmr: '0.01' };
    expect(ask({ op: 'liquidationPrice', venue: 'binance', mode: 'cross', walletBalance: '10', target: 'A', positions: [leg] })).toMatchObject({ liquidationPrice: expect.any(Number) });
  });
  it('a funding stamp less than 1 s past the minute is of that minute, as a replay settles it (a long closed at the 16:00 open pays it)', () => {
    const ev = [{ time: Date.UTC(2025, 0, 1, 8, 0, 0, 5), rate: 0.0002, price: 101.2 }, { time: Date.UTC(2025, 0, 1, 16, 0, 0, 999), rate: -0.0003, price: 102.2 }];
    const fees = (closeTime: string) => ask({ op: 'fundingFees', side: 'long', qty: 1, openTime: '2025-01-01T01:00:00Z', closeTime, events: ev, venue: 'binance-usdm' });
    expect(fees('2025-01-01T16:00:00Z')).toEqual({ received: 0.01042 });
    expect(fees('2025-01-01T15:59:59Z')).toEqual({ received: -0.02024 });
    // a stamp a whole second past the minute is its own time
    expect(ask({ op: 'fundingFees', side: 'long', qty: 1, openTime: 0, closeTime: 28_800_000, events: [{ time: 28_801_000, rate: 0.0001, price: 100 }] })).toEqual({ received: 0 });
  });
  it('a time as a digit string is the number it spells, as a JSON number is (relative times: 30 days = 2592000000)', () => {
    const fees = (openTime: unknown, closeTime: unknown) => ask({ op: 'fundingFees', side: 'long', qty: 1, openTime, closeTime, events: [{ time: 28800000, rate: 0.0001, price: 100 }] });
    expect(fees('0', '2592000000')).toEqual(fees(0, 2592000000));
    expect(fees(0, 2592000000)).toEqual({ received: -0.01 });
  });
  it('text that is not a decimal number is refused naming the key, as are overflowing strings', () => {
    for (const bad of ['0x10', '', ' ', 'Infinity', 'NaN', '1_000', '1,5', '12abc', '--1']) {
      expect(ask({ op: 'fundingFee', side: 'long', qty: bad, price: 1, rate: 0.0001 }).error).toBe(`"qty" must be a number (a JSON number or a decimal string such as "1234.5"), got ${JSON.stringify(bad)}`);
    }
    expect(ask({ op: 'fundingFee', side: 'long', qty: '1e400', price: 1, rate: 0.0001 }).error).toBe('"qty" is too large for a number (above 1.8e308), got 1e400');
    expect(ask({ op: 'fundingFee', side: 'long', qty: '-1', price: 1, rate: 0.0001 }).error).toBe('"qty" must be ≥ 0, got -1');
  });
});

describe('liquidation price of a position that cannot be liquidated', () => {
  it('a 1x isolated long (margin = entry notional) has none on every venue form, not a price of ~1e-13 from rounding', async () => {
    const { binanceLiquidationPrice, gateLiquidationPrice, bankruptcyPriceOf, bybitLiquidationPriceWallet, tieredLiquidationPrice, ClosedForm } = await import('../src/venue/math.js');
    const { buildTiers } = await import('../src/venue/tiers.js');
    const tiers = buildTiers([{ floor: 0, mmr: 0.004, maxLeverage: 125 }], 'test');
    // (the doubles gave 1.1e-12, 1.2e-12, 2.6e-14 for the first three)
    for (const [q, ep] of [[6.590000000000001, 8478.72], [6.058000000000001, 7467.83], [4.390000000000001, 222.88], [0.003, 30000.1], [1, 1]] as const) {
      const wb = Number((q * ep).toFixed(8)); // the wallet as the books hold it (integer units of 1e-8)
      expect(binanceLiquidationPrice(1, q, ep, wb, 0.004, 0), `${q} @ ${ep}`).toBeNaN();
      expect(tieredLiquidationPrice(ClosedForm.Binance, 1, q, ep, wb, tiers, 0)).toBeNaN();
      expect(gateLiquidationPrice(1, q, ep, wb, 0.004, 0.0005)).toBeNaN();
      expect(bankruptcyPriceOf(1, q, ep, wb)).toBeNaN();
      expect(bybitLiquidationPriceWallet(1, q, ep, wb, 0)).toBeNaN();
    }
    // a real price stays as it was: 2x long, and 1x with a fee taken from the margin
    expect(binanceLiquidationPrice(1, 1, 30000, 15000, 0.004, 0)).toBeCloseTo(15000 / 0.996, 9);
    expect(binanceLiquidationPrice(1, 1, 30000, 29999.99, 0.004, 0) / (0.01 / 0.996)).toBeCloseTo(1, 8);
  });
});

describe('calc liq bybit: --wallet and --extra-margin', () => {
  const json = (args: string[]) => JSON.parse(cli(['calc', 'liq', '--venue', 'bybit', ...args, '--json']).stdout) as Record<string, unknown>;
  it('--wallet is the position margin with --leverage too (it was dropped for Q·EP/leverage)', () => {
    // MM = 40000 × 0.5 % = 200; LP = EP − (WB − MM)/Q = 36200, BP = EP − WB/Q = 36000
    expect(json(['--side', 'long', '--entry', '40000', '--qty', '1', '--leverage', '50', '--wallet', '4000', '--symbol', 'BTCUSDT'])).toEqual({ liquidationPrice: 36200, bankruptcyPrice: 36000 });
    expect(json(['--side', 'long', '--entry', '40000', '--qty', '1', '--leverage', '50', '--symbol', 'BTCUSDT'])).toEqual({ liquidationPrice: 39400, bankruptcyPrice: 39200 });
  });
  it('the bankruptcy price counts the extra margin (margin balance 0 with IM + extra)', () => {
    expect(json(['--side', 'short', '--entry', '10', '--qty', '1', '--leverage', '5', '--mmr', '0.01', '--extra-margin', '0.5'])).toEqual({ liquidationPrice: 12.4, bankruptcyPrice: 12.5 });
  });
});

describe('maintenanceTier cum recurrence', () => {
  it('is computed in decimals along the whole chain (no rounding to a double at each tier)', () => {
    // cum_1 = 614.3858165240023 × (0.01707 − 0.0042) = 7.907145458663909601…; cum_2 = cum_1 + 700 × (0.008735 − 0.01707) = 2.07264545866390960…
    const r = evaluate({ op: 'maintenanceTier', notional: 700, tiers: [{ minNotional: 0, mmr: 0.0042 }, { minNotional: 614.3858165240023, mmr: 0.01707 }, { minNotional: 700, mmr: 0.008735 }] });
    expect(r.maintenanceAmount).toBe(2.0726454586639096);
  });
});

describe('calc contradictory inputs', () => {
  const err = (o: object) => (JSON.parse(evaluateLine(JSON.stringify(o)).text) as { error?: string }).error;
  it('cross: any symbol listed twice is refused (it was counted twice unless it was the target)', () => {
    const leg = (symbol: string) => ({ symbol, side: 'long', qty: 1, entryPrice: 100, markPrice: 100, mmr: 0.01 });
    expect(err({ op: 'liquidationPrice', venue: 'binance', mode: 'cross', walletBalance: 50, target: 'A', positions: [leg('A'), leg('B'), leg('B')] })).toBe('positions[2]: symbol B appears twice (one-way mode holds one position per symbol)');
  });
});

describe('calc fundingFees window', () => {
  it('a closeTime before the openTime is refused (it answered 0: no event in the window)', () => {
    const r = evaluateLine(JSON.stringify({ op: 'fundingFees', side: 'long', qty: 1, openTime: '2024-03-01T08:00:00Z', closeTime: '2024-03-01T00:00:00Z', events: [{ time: '2024-03-01T04:00:00Z', rate: 0.001, price: 100 }] }));
    expect(JSON.parse(r.text).error).toBe('"closeTime" (2024-03-01T00:00:00.000Z) is before "openTime" (2024-03-01T08:00:00.000Z)');
    const far = evaluateLine(JSON.stringify({ op: 'fundingFees', side: 'long', qty: 1, openTime: 1e20, closeTime: 0, events: [] }));
    expect(JSON.parse(far.text).error).toBe('"closeTime" (1970-01-01T00:00:00.000Z) is before "openTime" (100000000000000000000 ms)');
  });
});

describe('calc bankruptcyPrice inputs', () => {
  it('leverage together with qty/walletBalance is refused (leverage won silently)', () => {
    const r = evaluateLine(JSON.stringify({ op: 'bankruptcyPrice', side: 'long', entryPrice: 100, leverage: 10, qty: 1, walletBalance: 50 }));
    expect(JSON.parse(r.text).error).toBe('give "leverage" or "qty" with "walletBalance", not both');
  });
});

describe('calc hyperliquid cross wallet', () => {
  it('"margin" together with "walletBalance" is refused (margin was ignored)', () => {
    const leg = { symbol: 'BTC', side: 'long', qty: 1, entryPrice: 100, markPrice: 100 };
    const r = evaluateLine(JSON.stringify({ op: 'liquidationPrice', venue: 'hl', mode: 'cross', margin: 10, walletBalance: 20, target: 'BTC', positions: [leg] }));
    expect(JSON.parse(r.text).error).toBe('give "margin" (the cross wallet: collateral without unrealised PnL) or "walletBalance", not both');
    expect(evaluate({ op: 'liquidationPrice', venue: 'hl', mode: 'cross', margin: 10, target: 'BTC', positions: [leg] }).liquidationPrice).toBeCloseTo((100 - 10) / (1 - 0.01), 9);
  });
});

describe('calc computes in decimals (DESIGN §3: the calculator\'s closed forms use decimal.js)', () => {
  const R = Decimal.clone({ precision: 60 });
  it('marginRatio keeps every digit of decimal strings (a double made this margin balance 0 and "liquidated")', () => {
    expect(evaluate({ op: 'marginRatio', walletBalance: '999991362288.98567861', unrealizedPnl: '-999991362288.98567859', maintenanceMargin: '0.00000001' }))
      .toEqual({ marginBalance: 2e-8, marginRatio: 0.5, liquidated: false });
  });
  it('the simple ops answer the decimal result rounded once', () => {
    const q = '1234567.123456789012345';
    const p = '0.000123456789012345678';
    const rate = '0.000100000000000000001';
    expect(evaluate({ op: 'fundingFee', side: 'short', qty: q, price: p, rate }).received).toBe(new R(q).times(p).times(rate).toNumber());
    expect(evaluate({ op: 'position', side: 'long', qty: q, entryPrice: p, markPrice: '0.000123456789012345679', isolatedWallet: '0.1' }))
      .toEqual({ notional: new R(q).times('0.000123456789012345679').toNumber(), unrealizedPnl: new R(q).times('1e-21').toNumber(), isolatedMargin: new R(q).times('1e-21').plus('0.1').toNumber() });
    const pnl = new R(q).times(new R('0.000123456789012345679').minus(p)).minus(new R(q).times(p).times('0.0005'));
    expect(evaluate({ op: 'tradePnl', side: 'long', qty: q, entryPrice: p, exitPrice: '0.000123456789012345679', feeRateOpen: '0.0005' }).pnl).toBe(pnl.toNumber());
  });
  it('a liquidation price near 1x leverage is right to the last digit (doubles lost ≈ 6 of them to cancellation)', () => {
    // Binance one tier: LP = (WB + cum − s·Q·EP) / (Q·MMR − s·Q), WB = Q·EP / leverage
    fc.assert(
      fc.property(fc.constantFrom<1 | -1>(1, -1), fc.integer({ min: 1, max: 9_999 }), fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 99 }), (s, qi, epi, k, m) => {
        const qty = new R(qi).div(1000);
        const ep = new R(epi).div(10);
        const lev = new R(1).plus(new R(k).times('1e-12'));
        const mmr = new R(m).div(1000);
        const wb = qty.times(ep).div(lev);
        const want = wb.minus(qty.times(ep).times(s)).div(qty.times(mmr).minus(qty.times(s)));
        const got = evaluate({ op: 'liquidationPrice', venue: 'binance-usdm', side: s === 1 ? 'long' : 'short', qty: qty.toString(), entryPrice: ep.toString(), leverage: lev.toString(), mmr: mmr.toString() }).liquidationPrice;
        expect(got).toBe(want.gt(0) ? want.toNumber() : null);
      }),
      { numRuns: 300, seed: 9 },
    );
  });
  it('with a venue table the answer is the decimal root of the tier it lies in, on every venue form', () => {
    const tierOf = (venue: string, notional: number) => evaluate({ op: 'maintenanceTier', venue, symbol: 'BTCUSDT', asOf: '2025-06-01', notional }) as { mmr: number; maintenanceAmount: number };
    for (const s of [1, -1] as const) {
      for (const lev of ['1.0000000001', '3', '20', '74.99999999']) {
        const base = { op: 'liquidationPrice', side: s === 1 ? 'long' : 'short', qty: '2.5', entryPrice: '61234.5', leverage: lev, symbol: 'BTCUSDT', asOf: '2025-06-01' };
        const q = new R('2.5');
        const ep = new R('61234.5');
        const wb = q.times(ep).div(lev);
        // Binance
        const b = evaluate({ ...base, venue: 'binance-usdm' }).liquidationPrice as number | null;
        if (b !== null) {
          const t = tierOf('binance-usdm', 2.5 * b);
          expect(b).toBe(wb.plus(t.maintenanceAmount).minus(q.times(ep).times(s)).div(q.times(t.mmr).minus(q.times(s))).toNumber());
        }
        // OKX (Gate form with the taker add-on): (EP − s·(M + cum)/Q) / (1 − s·(MMR + taker))
        const o = evaluate({ ...base, venue: 'okx', takerFee: '0.0005' }).liquidationPrice as number | null;
        if (o !== null) {
          const t = tierOf('okx', 2.5 * o);
          expect(o).toBe(ep.minus(wb.plus(t.maintenanceAmount).times(s).div(q)).div(new R(1).minus(new R(t.mmr).plus('0.0005').times(s))).toNumber());
        }
        // Bybit (entry notional): LP = EP − s·(IM − MM)/Q
        const y = evaluate({ ...base, venue: 'bybit-linear' }).liquidationPrice as number | null;
        const ty = tierOf('bybit-linear', 2.5 * 61234.5);
        const mm = q.times(ep).times(ty.mmr).minus(ty.maintenanceAmount);
        const wantY = ep.minus(wb.minus(mm).times(s).div(q));
        expect(y).toBe(wantY.gt(0) ? wantY.toNumber() : null);
      }
    }
  });
  it('cross: the other legs\' uPnL and maintenance margin are summed in decimals', () => {
    const got = evaluate({
      op: 'liquidationPrice', venue: 'binance-usdm', mode: 'cross', walletBalance: '1000.000000000000001', target: 'BTCUSDT',
      positions: [
        { symbol: 'BTCUSDT', side: 'long', qty: '0.1', entryPrice: '60000', mmr: '0.004' },
        { symbol: 'ETHUSDT', side: 'short', qty: '2', entryPrice: '3000', markPrice: '3000.0000000001', mmr: '0.005', maintenanceAmount: '0' },
      ],
    }).liquidationPrice;
    const wb = new R('1000.000000000000001').plus(new R(-2).times('0.0000000001')).minus(new R(2).times('3000.0000000001').times('0.005'));
    expect(got).toBe(wb.minus(new R('0.1').times(60000)).div(new R('0.1').times('0.004').minus('0.1')).toNumber());
  });
  it('bankruptcy price from a wallet, in decimals', () => {
    expect(evaluate({ op: 'bankruptcyPrice', side: 'long', entryPrice: '50000.00000000001', qty: '3', walletBalance: '150000.00000000002' }).bankruptcyPrice)
      .toBe(new R('50000.00000000001').minus(new R('150000.00000000002').div(3)).toNumber());
  });
  it('messages show a decimal string as given, not the number a double made of it', () => {
    expect(evaluate.bind(null, { op: 'fundingFee', side: 'long', qty: '1e-400', price: 1, rate: 0 })).toThrow('"qty" is too small for a number (1e-400: a number\'s smallest is 5e-324)');
    expect(evaluate.bind(null, { op: 'liquidationPrice', venue: 'binance-usdm', side: 'long', qty: 1, entryPrice: 1, leverage: 2, mmr: '0.9999999999999999999' }))
      .toThrow('"mmr" must be a rate in [0, 1), got 0.9999999999999999999, which is 1 to a number\'s 17 digits');
    expect(evaluate.bind(null, { op: 'liquidationPrice', venue: 'binance-usdm', side: 'long', qty: '-0.5', entryPrice: 1, leverage: 2, mmr: 0.1 })).toThrow('"qty" must be > 0, got -0.5');
    expect(evaluate.bind(null, { op: 'fundingFee', side: 'long', qty: '0.00000000000000000000000000001', price: 1, rate: '1e-300' })).toThrow('"received" of the answer (-1e-329) is too small for a number');
  });
  it('calc liq (flags) answers the same decimal prices as the JSON op', () => {
    for (const venue of ['binance-usdm', 'okx', 'bybit-linear']) {
      for (const side of ['long', 'short']) {
        const flags = { venue, side, entry: '50000.5', qty: '1.25', leverage: '1.0000000001', symbol: 'BTCUSDT', asOf: '2025-06-01', json: true };
        const viaFlags = JSON.parse(runCalcLiq(flags)) as { liquidationPrice: number | null; bankruptcyPrice: number | null };
        const viaJson = evaluate({ op: 'liquidationPrice', venue, side, qty: '1.25', entryPrice: '50000.5', leverage: '1.0000000001', symbol: 'BTCUSDT', asOf: '2025-06-01' });
        expect(viaFlags.liquidationPrice).toBe(viaJson.liquidationPrice);
        const bp = new R('50000.5').minus(new R('1.25').times('50000.5').div('1.0000000001').times(side === 'long' ? 1 : -1).div('1.25'));
        expect(viaFlags.bankruptcyPrice).toBe(bp.toNumber());
      }
    }
  });
  it('the tier is chosen in decimals: a root a hair above a floor is the upper tier\'s, and a price below the doubles\' rounding exists (review of the change)', () => {
    // BTCUSDT 2024-11-01: the root 1200000000.0012 lies in the tier from 1.2e9 (MMR 0.5, cum 421481450); the doubles took the tier below
    const floor = { op: 'liquidationPrice', venue: 'binance-usdm', side: 'long', qty: 1, entryPrice: 1560000000, walletBalance: '538518549.9994', asOf: '2024-11-01' };
    expect(evaluate({ ...floor, symbol: 'BTCUSDT' }).liquidationPrice).toBe(1200000000.0012);
    expect(evaluate({ ...floor, mmr: 0.5, maintenanceAmount: 421481450 }).liquidationPrice).toBe(1200000000.0012);
    // LP = 1e-11 / 0.996 exists with a table as with the hand-given tier (the doubles' root was within their rounding: null)
    const tiny = { op: 'liquidationPrice', venue: 'binance-usdm', side: 'long', qty: 1, entryPrice: 50000, walletBalance: '49999.99999999999' };
    expect(evaluate({ ...tiny, symbol: 'BTCUSDT' }).liquidationPrice).toBe(new R('1e-11').div('0.996').toNumber());
    expect(evaluate({ ...tiny, mmr: 0.004 }).liquidationPrice).toBe(new R('1e-11').div('0.996').toNumber());
  });
  it('inputs a double cannot hold are refused as given, for the JSON ops and calc liq\'s flags alike', () => {
    expect(evaluate.bind(null, { op: 'marginRatio', walletBalance: '1e-99999999999999999999', unrealizedPnl: 0, maintenanceMargin: 0 })).toThrow('"walletBalance" is too small for a number (1e-99999999999999999999');
    expect(evaluate.bind(null, { op: 'liquidationPrice', venue: 'binance-usdm', side: 'long', qty: 1, entryPrice: 1, leverage: 2, mmr: '-1e-400' })).toThrow('"mmr" must be a rate in [0, 1), got -1e-400');
    expect(evaluate.bind(null, { op: 'liquidationPrice', venue: 'okx', side: 'long', qty: 1, entryPrice: 1, walletBalance: 0.5, takerFee: 1.5, mmr: 0.01 })).toThrow('"takerFee" must be a rate in [0, 1), got 1.5');
    expect(evaluate.bind(null, { op: 'bankruptcyPrice', side: 'long', entryPrice: '1e-300', qty: 1, walletBalance: '9.99999999999999999999999999999e-301' })).toThrow(/^the price \(1e-330\) is too small for a number/);
    expect(evaluate({ op: 'maintenanceTier', venue: 'binance-usdm', symbol: 'BTCUSDT', asOf: '2024-11-01', notional: '49999.99999999999999999' }))
      .toEqual(evaluate({ op: 'maintenanceTier', venue: 'binance-usdm', symbol: 'BTCUSDT', asOf: '2024-11-01', notional: 49999 }));
    const liq = (f: Record<string, string>) => () => runCalcLiq({ side: 'long', entry: '100', qty: '1', leverage: '10', json: true, ...f });
    expect(liq({ leverage: '0.99999999999999999' })).toThrow('--leverage: expected a number ≥ 1, got 0.99999999999999999');
    expect(liq({ mmr: '0.99999999999999999' })).toThrow("--mmr: expected a rate in [0, 1), got 0.99999999999999999, which is 1 to a number's 17 digits");
    expect(liq({ qty: '1e-400' })).toThrow('--qty: 1e-400 is too small for a number');
    expect(liq({ venue: 'okx', taker: '1.5' })).toThrow('--taker: expected a rate in [0, 1), got 1.5');
  });
});
