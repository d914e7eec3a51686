/**
 * The I/O side of `marginlab calc` (kept out of src/cli/commands so the command module stays light).
 */
import type { Readable, Writable } from 'node:stream';
import { fstatSync } from 'node:fs';
import { ExitCode, missingInput, usageError } from '../errors.js';
import { errorLine, evaluateLine, noOwnTableNote, okxRateSumFault, OKX_SUM_TAIL } from './calc.js';
import { venueIdOf } from './index.js';
import { dateHint, parseDate } from '../util/time.js';
import { parseDecimalText } from '../util/decimal-text.js';
import { fsError } from '../util/fs-errors.js';
import { getVenue, venueIds } from './index.js';
import { maxNotional, tierFor, tierIndex } from './tiers.js';
import { ClosedForm } from './math.js';
import { exactBankruptcyPrice, exactBybitWallet, exactLiquidationPrice, exactTierRoot, givenSign, XD, type XDecimal } from './math-exact.js';
import type { Side, Tier } from './types.js';

/** the longest input line `calc` reads (64 MiB); a longer one is answered with an {"error"} line and skipped */
export const MAX_CALC_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Reads JSON Lines from `input`, writes one JSON line per non-blank input line. Returns the exit code.
 * Lines are split on bytes (LF; a CR before it, a BOM and blanks are trimmed), so memory stays bounded
 * by `maxLineBytes` whatever the input: a longer line is skipped to its end and answered with an error.
 */
export async function runCalcStream(input: Readable, output: Writable, opts: { maxLineBytes?: number; summary?: Writable } = {}): Promise<number> {
  const max = opts.maxLineBytes ?? MAX_CALC_LINE_BYTES;
  let answered = 0;
  let failed = 0;
  let firstFailed = 0;
  let lineNo = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let overlong = false;
  /** answers the line read so far; a promise only when the output asks to wait (drain) */
  const endLine = (): Promise<void> | undefined => {
    lineNo++;
    let res: { text: string; ok: boolean } | null = null;
    if (overlong) res = { text: errorLine(`the line is longer than ${max} bytes, the limit of one input line; it was skipped`, lineNo), ok: false };
    else {
      const line = Buffer.concat(parts, size).toString('utf8').trim();
      if (line.length > 0) res = evaluateLine(line, lineNo);
    }
    parts = [];
    size = 0;
    overlong = false;
    if (!res) return undefined;
    answered++;
    if (!res.ok && failed++ === 0) firstFailed = lineNo;
    if (!output.write(`${res.text}\n`)) return new Promise<void>((r) => output.once('drain', () => r()));
    return undefined;
  };
  try {
    for await (const chunk of input) {
      const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        const end = nl === -1 ? buf.length : nl;
        if (!overlong && end > start) {
          if (size + (end - start) > max) {
            overlong = true;
            parts = [];
            size = 0;
          } else {
            parts.push(buf.subarray(start, end));
            size += end - start;
          }
        }
        if (nl === -1) break;
        const wait = endLine();
        if (wait) await wait;
        start = nl + 1;
      }
    }
  } catch (e) {
    throw fsError(e, { action: 'read', path: 'standard input', role: 'input' });
  }
  if (size > 0 || overlong) await endLine();
  if (failed === 0) return ExitCode.OK;
  opts.summary?.write(`marginlab: calc: ${failed} of ${answered} input lines answered with {"error"} on stdout (the first at line ${firstFailed}); exit ${ExitCode.DATA}\n`);
  return ExitCode.DATA;
}

/** `marginlab calc`: stdin to stdout. A folder redirected into stdin reads as empty in Node: said, not a silent exit 0. */
export async function runCalcStdin(): Promise<number> {
  if (fstatSync(0).isDirectory()) throw missingInput('cannot read standard input: it is a folder, not a file; redirect a JSON Lines file (npx marginlab calc < lines.jsonl) or pipe into npx marginlab calc');
  return runCalcStream(process.stdin, process.stdout, { summary: process.stderr });
}

/** a flag's number: decimal text only (util/decimal-text.ts; Number() would also read 0x10, 0b11 and 0o7), finite, in range */
function flagNum(opts: Record<string, unknown>, key: string, flag: string, optional: boolean, min?: number, below?: number): number | undefined {
  const v = opts[key];
  if (v === undefined) {
    if (optional) return undefined;
    throw usageError(`--${flag} is required`);
  }
  const n = typeof v === 'string' ? parseDecimalText(v) : null;
  if (n === null || !Number.isFinite(n)) throw usageError(`--${flag}: expected a number, got ${JSON.stringify(v)}`);
  // the checks on the decimal the flag spells (its value as given), not on the double it rounds to
  const text = String(v).trim();
  const d = new XD(text);
  const { nonZero, negative } = givenSign(d, text);
  if (below !== undefined && !(!negative && d.gte(min ?? 0) && d.lt(below))) throw usageError(`--${flag}: expected a rate in [${min ?? 0}, ${below}), got ${text}`);
  if (below !== undefined && n >= below) throw usageError(`--${flag}: expected a rate in [${min ?? 0}, ${below}), got ${text}, which is ${below} to a number's 17 digits`);
  // Number.MIN_VALUE stands for "> 0": said so, not as 5e-324
  const tooLow = min === Number.MIN_VALUE ? negative || !nonZero : min !== undefined && (d.lt(min) || (negative && min >= 0));
  if (tooLow) throw usageError(`--${flag}: expected ${min === Number.MIN_VALUE ? 'a positive number' : `a number ≥ ${min}`}, got ${text}`);
  if (min !== undefined && min !== Number.MIN_VALUE && n < min) throw usageError(`--${flag}: expected a number ≥ ${min}, got ${text}, which is below ${min} to a number's 17 digits`);
  if (nonZero && n === 0) throw usageError(`--${flag}: ${text} is too small for a number (the smallest is 5e-324); give 0 or a value a number can hold`);
  return n;
}

const fmt = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(12))) : 'none');

/** `calc liq` with flags: returns the text to print. */
/** `calc liq` without --venue. */
export const DEFAULT_CALC_VENUE = 'binance-usdm';

export function runCalcLiq(opts: Record<string, string | boolean | undefined>): string {
  /** the venue when --venue is not given; the answer says it was defaulted */
  const defaulted = typeof opts.venue !== 'string';
  const venueId = defaulted ? DEFAULT_CALC_VENUE : String(opts.venue);
  const id = venueIdOf(venueId);
  if (!venueIds().includes(id)) throw usageError(`--venue: unknown venue "${venueId}"; known venues: ${venueIds().join(', ')}`);
  const venue = getVenue(id);
  // a flag the venue's formula does not read would be ignored: refused, naming where it applies
  const onlyFor: [key: string, flag: string, venue: string, what: string][] = [
    ['taker', 'taker', 'okx', 'the liquidation fee in its formula'],
    ['extraMargin', 'extra-margin', 'bybit-linear', 'margin added after opening'],
    ['maxLeverage', 'max-leverage', 'hyperliquid', 'its MMR is 1/(2 × max leverage)'],
  ];
  for (const [key, flag, only, what] of onlyFor) {
    if (opts[key] !== undefined && id !== only)
      throw usageError(`--${flag} applies to ${only} only (${what}), not to ${id}${key === 'extraMargin' ? '; add it to --wallet' : key === 'maxLeverage' ? '; give --mmr' : ''}`);
  }
  if (id === 'hyperliquid' && (opts.mmr !== undefined || opts.cum !== undefined)) throw usageError(`--${opts.mmr !== undefined ? 'mmr' : 'cum'} does not apply to hyperliquid: give --max-leverage (its MMR is 1/(2 × max leverage))`);
  if (opts.cum !== undefined && opts.mmr === undefined) throw usageError('--cum goes with --mmr (one tier given by hand); a tier table has its own maintenance amounts');
  if (opts.side !== 'long' && opts.side !== 'short') throw usageError(`--side: expected long or short, got ${JSON.stringify(opts.side)}`);
  const s: Side = opts.side === 'long' ? 1 : -1;
  const mode = String(opts.mode ?? 'isolated');
  if (mode !== 'isolated' && mode !== 'cross') throw usageError(`--mode: expected isolated or cross, got ${JSON.stringify(mode)}`);
  // the prices are computed in decimals from the flags' text (math-exact.ts); the explanation's terms in numbers
  const x = (key: string): XDecimal => new XD(String(opts[key]).trim());
  const ep = flagNum(opts, 'entry', 'entry', false, Number.MIN_VALUE)!;
  const q = flagNum(opts, 'qty', 'qty', false, Number.MIN_VALUE)!;
  const lev = flagNum(opts, 'leverage', 'leverage', true, 1);
  let wallet = flagNum(opts, 'wallet', 'wallet', true);
  const walletGiven = wallet !== undefined;
  if (wallet === undefined) {
    if (lev === undefined) throw usageError('give --wallet (the position margin) or --leverage (margin = qty × entry / leverage)');
    wallet = (q * ep) / lev;
  }
  const qx = x('qty');
  const epx = x('entry');
  const walletx = walletGiven ? x('wallet') : qx.times(epx).div(x('leverage'));
  const asOfRaw = opts.asOf;
  const asOf = typeof asOfRaw === 'string' ? parseDate(asOfRaw) : Date.now();
  if (asOf === null) throw usageError(`--as-of: expected an ISO date, got ${JSON.stringify(asOfRaw)}${dateHint(asOfRaw)}`);
  const mmrFlag = flagNum(opts, 'mmr', 'mmr', true, 0, 1);
  const cumFlag = flagNum(opts, 'cum', 'cum', true) ?? 0;
  const symbol = typeof opts.symbol === 'string' ? opts.symbol : undefined;
  const tiers: readonly Tier[] =
    mmrFlag !== undefined
      ? [{ floor: 0, cap: Number.POSITIVE_INFINITY, mmr: mmrFlag, maxLeverage: Number.POSITIVE_INFINITY, cum: cumFlag }]
      : venue.tiers(symbol ?? '__default__', asOf);
  const tableLabel = mmrFlag !== undefined ? 'given by --mmr/--cum' : symbol
        ? (venue.tierSource?.(symbol, asOf) ?? 'venue table')
        : `${(venue.tierSource?.('__default__', asOf) ?? 'venue default table').replace(/ for \S+$/, '')}; pass --symbol for a symbol's table`;
  if (!Number.isFinite(q * ep) || !Number.isFinite(wallet)) throw usageError(`--qty × --entry (${fmt(q)} × ${fmt(ep)}) or the margin overflows a number; give a realistic position`);
  const side = s === 1 ? 'long' : 'short';
  const lines: string[] = [];
  let lp: number;
  /** the margin whose balance is 0 at the bankruptcy price (Bybit: with the extra margin) */
  let marginBalance = walletx;
  const single = mmrFlag !== undefined ? { mmr: x('mmr'), cum: opts.cum !== undefined ? x('cum') : new XD(0) } : undefined;
  const price = (p: XDecimal | null): number => (p !== null && p.gt(0) ? p.toNumber() : Number.NaN);
  let formula: string;
  const entryTier = tierFor(tiers, q * ep);
  /** the maximum leverage the leverage note compares with: the entry tier's, or Hyperliquid's --max-leverage (its formula's) */
  let levLimit = { x: entryTier.maxLeverage, what: `the tier at the entry notional ${fmt(q * ep)}` };
  const term = (name: string, text: string) => lines.push(`  ${name.padEnd(12)}${text}`);

  if (id === 'bybit-linear') {
    const extra = flagNum(opts, 'extraMargin', 'extra-margin', true) ?? 0;
    const mm = q * ep * entryTier.mmr - entryTier.cum;
    const extrax = opts.extraMargin !== undefined ? x('extraMargin') : new XD(0);
    // --wallet is the position margin (IM) as given; without it IM = Q·EP/leverage (the published form)
    marginBalance = walletx.plus(extrax);
    lp = price(exactBybitWallet(s, qx, epx, marginBalance, qx.times(epx).times(single?.mmr ?? entryTier.mmr).minus(single?.cum ?? entryTier.cum)));
    formula = 'LP = EP ∓ (IM − MM)/Q ∓ extra/Q, IM = Q·EP/leverage, MM = Q·EP·MMR − deduction (Bybit isolated, entry notional)';
    if (walletGiven) term('IM', `${fmt(wallet)} (--wallet: the position margin at entry${lev !== undefined ? `; --leverage ${fmt(lev)}x would give ${fmt((q * ep) / lev)}` : ''})`);
    else term('leverage', `${fmt(lev!)}x → IM = ${fmt(wallet)} (initial margin at entry)`);
    term('extra', `${fmt(extra)} (margin added after opening)`);
    term('MMR', `${fmt(entryTier.mmr)}, deduction ${fmt(entryTier.cum)} (tier at entry notional ${fmt(q * ep)}; table: ${tableLabel})`);
    term('MM', `${fmt(mm)} (maintenance margin on the entry notional)`);
  } else if (id === 'hyperliquid') {
    const maxLev = flagNum(opts, 'maxLeverage', 'max-leverage', true, 1) ?? entryTier.maxLeverage;
    const maxLevx = opts.maxLeverage !== undefined ? x('maxLeverage') : new XD(maxLev);
    // the note's limit is the one the price is computed with: the default table's 10x said a 40x position at --max-leverage 50 was refused
    if (opts.maxLeverage !== undefined) levLimit = { x: maxLev, what: 'the coin (--max-leverage)' };
    lp = price(exactTierRoot(ClosedForm.Hyperliquid, s, qx, epx, walletx, new XD(1).div(maxLevx.times(2)), 0, 0));
    formula = 'liq = price − side·margin_available/size/(1 − l·side), l = 1/(2·max leverage) (Hyperliquid docs)';
    term('margin', `${fmt(wallet)} (${mode === 'cross' ? 'cross wallet: collateral without unrealised PnL, not Hyperliquid\'s account value, which includes it' : 'isolated margin'})`);
    term('maxLeverage', `${fmt(maxLev)}x → maintenance rate l = ${fmt(1 / (2 * maxLev))}`);
    term('MM required', `${fmt((q * ep) / maxLev / 2)} (= size × price / max leverage / 2); margin available ${fmt(wallet - (q * ep) / maxLev / 2)}`);
  } else if (id === 'okx') {
    const taker = flagNum(opts, 'taker', 'taker', true, 0, 1) ?? venue.fees.taker;
    const sumFault = s === 1 ? okxRateSumFault(tiers, single, opts.taker !== undefined ? x('taker') : taker) : null;
    if (sumFault !== null) throw usageError(`--mmr + --taker must be below 1 (${sumFault}): ${OKX_SUM_TAIL}`);
    lp = price(exactLiquidationPrice(venue, { side: s, qty: qx, entryPrice: epx, walletBalance: walletx, tiers, single, extraRate: taker }));
    const t = Number.isFinite(lp) ? tierFor(tiers, q * lp) : entryTier;
    // the tier's maintenance amount raises the margin (docs/margin.md): without it the terms printed did not give the price
    formula = 'LP = (EP ∓ (Margin + cum)/Size) / [1 ∓ (MMR + taker)] (Gate/OKX isolated, as used by freqtrade; cum = the tier\'s maintenance amount, 0 in the published form)';
    term('margin', `${fmt(wallet)} (isolated margin of the position)`);
    term('MMR, cum', `${fmt(t.mmr)}, ${fmt(t.cum)} (tier at the liquidation notional ${Number.isFinite(lp) ? fmt(q * lp) : '—'}; table: ${tableLabel})`);
    term('taker', `${fmt(taker)} (liquidation fee rate added to the MMR)`);
  } else {
    lp = price(exactLiquidationPrice(venue, { side: s, qty: qx, entryPrice: epx, walletBalance: walletx, tiers, single }));
    const t = Number.isFinite(lp) ? tiers[tierIndex(tiers, q * lp)]! : entryTier;
    formula = 'LP = (WB + cum − s·Q·EP) / (Q·MMR − s·Q) (Binance FAQ, one-way; tier re-chosen at the liquidation notional)';
    term('WB', `${fmt(wallet)} (${mode === 'cross' ? 'cross wallet balance (no other positions)' : 'isolated wallet: margin incl. transfers and funding'})`);
    // (a table given by --mmr alone has no maximum leverage: none is said)
    if (lev !== undefined) term('leverage', `${fmt(lev)}x (initial margin ${fmt((q * ep) / lev)}${Number.isFinite(entryTier.maxLeverage) ? `; tier maximum at entry notional ${fmt(entryTier.maxLeverage)}x` : ''})`);
    term('MMR, cum', `${fmt(t.mmr)}, ${fmt(t.cum)} (tier at the liquidation notional ${Number.isFinite(lp) ? fmt(q * lp) : '—'}; table: ${tableLabel})`);
  }
  const bp = price(exactBankruptcyPrice(s, qx, epx, marginBalance));
  // what makes the answer hypothetical: said with it, never silently
  const notes: string[] = [];
  // a symbol without a table of its own takes the venue's default brackets: a misspelt major (BTCUSDTT) gave a price
  // of the small-cap table without a word
  // (a table given by hand, --mmr or Hyperliquid's --max-leverage, answers instead of the symbol's)
  const ownTable = mmrFlag === undefined && opts.maxLeverage === undefined && symbol !== undefined ? noOwnTableNote(venue, symbol, asOf) : null;
  if (ownTable !== null) notes.push(ownTable);
  if (Number.isFinite(lp) && (s === 1 ? lp >= ep : lp <= ep))
    notes.push(`the position is already at or past its liquidation price at the entry (margin ${fmt(wallet)} is below the maintenance margin there): a venue would liquidate it at once`);
  // the top tier's cap is the largest position the table allows at any leverage (a replay refuses an order past it);
  // past it the leverage note is not said, as the account's rejection names the cap alone (engine 1.5.43): "leverage
  // 3x is above the 1x maximum" sent the user to a leverage at which the order is refused as well
  const topCap = maxNotional(tiers);
  const pastCap = q * ep > topCap;
  if (lev !== undefined && lev > levLimit.x && !pastCap)
    notes.push(`leverage ${fmt(lev)}x is above the ${fmt(levLimit.x)}x maximum of ${levLimit.what}: a venue would refuse the order`);
  if (pastCap)
    notes.push(`the entry notional ${fmt(q * ep)} is above ${fmt(topCap)}, the largest position the tier table allows (its top tier's cap): a venue would refuse the order`);
  if (opts.json) {
    const venueNote = defaulted ? { venue: venue.id, venueDefaulted: true } : {}; // said only when marginlab chose it
    return `${JSON.stringify({ liquidationPrice: Number.isFinite(lp) ? lp : null, bankruptcyPrice: Number.isFinite(bp) ? bp : null, ...venueNote, ...(notes.length ? { notes } : {}) })}\n`;
  }
  const head = [
    `liquidation price: ${Number.isFinite(lp) ? fmt(lp) : 'none (no positive price: the position cannot be liquidated)'}`,
    `  ${'venue'.padEnd(12)}${venue.id}${defaulted ? ` (the default venue: no --venue given; known: ${venueIds().join(', ')})` : ''} (${mode}): ${formula}`,
    `  ${'side'.padEnd(12)}${side} (s = ${s > 0 ? '+1' : '−1'})`,
    `  ${'qty'.padEnd(12)}${fmt(q)} (Q, base units; entry notional ${fmt(q * ep)})`,
    `  ${'entry'.padEnd(12)}${fmt(ep)} (EP, average entry price)`,
  ];
  lines.push(`  ${'bankruptcy'.padEnd(12)}${fmt(bp)} (price at which the position's margin balance is 0)`);
  for (const n of notes) lines.push(`note: ${n}`);
  return `${[...head, ...lines].join('\n')}\n`;
}
