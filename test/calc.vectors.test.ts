/**
 * Every worked case of the public vectors goes through `marginlab calc` (one CLI process, all
 * lines on stdin). Cases come from test/fixtures/vectors/public.json and, when present, from
 * ../shared/vectors/*.json (so new cases are caught); a case of an unknown kind fails the test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

type Json = Record<string, any>;
interface Vector {
  id: string;
  kind: string;
  exchange: string;
  mode: string;
  inputs: Json;
  expected: Json;
  tolerance: { abs?: number; rel?: number };
}

function loadVectors(): Vector[] {
  const byId = new Map<string, Vector>();
  const files = [join(root, 'test/fixtures/vectors/public.json')];
  const shared = join(root, '..', 'shared', 'vectors');
  if (existsSync(shared)) for (const f of readdirSync(shared).sort()) if (f.endsWith('.json')) files.push(join(shared, f));
  for (const f of files) {
    const data = JSON.parse(readFileSync(f, 'utf8')) as Vector[] | { cases: Vector[] };
    for (const v of Array.isArray(data) ? data : data.cases) byId.set(v.id, v);
  }
  return [...byId.values()];
}

/** lines to send, and a check of their outputs (in the same order) */
interface Plan {
  lines: Json[];
  check: (outs: Json[], close: (got: unknown, exp: number, what: string) => void) => void;
}

const venueOf = (exchange: string): string => {
  const e = exchange.toLowerCase();
  if (e.startsWith('binance')) return 'binance-usdm';
  if (e.startsWith('bybit') || e.includes('bybit-style')) return 'bybit-linear';
  if (e === 'gate' || e === 'okx' || e === 'phemex') return 'okx';
  if (e === 'hyperliquid') return 'hyperliquid';
  return 'binance-usdm';
};

function plan(v: Vector): Plan {
  const I = v.inputs;
  const E = v.expected;
  switch (v.kind) {
    case 'bankruptcy_price':
      return {
        lines: [{ op: 'bankruptcyPrice', side: I.side, entryPrice: I.entry_price, leverage: I.leverage }],
        check: ([o], close) => close(o!.bankruptcyPrice, E.bankruptcy_price, 'bankruptcyPrice'),
      };
    case 'funding_fee': {
      if (I.funding_events) {
        const rule = String(I.cutoff_rule ?? '');
        const venue = rule.startsWith('gate') ? 'okx' : 'binance-usdm';
        const base = {
          op: 'fundingFees',
          venue,
          qty: I.amount,
          openTime: I.open_date,
          closeTime: I.close_date ?? I.now,
          events: I.funding_events.map((e: Json) => ({ time: e.time, rate: e.rate, price: e.mark_open })),
        };
        return {
          lines: [
            { ...base, side: 'long' },
            { ...base, side: 'short' },
          ],
          check: ([l, s], close) => {
            close(l!.received, E.funding_received_long, 'long');
            close(s!.received, E.funding_received_short, 'short');
          },
        };
      }
      if (I.steps) {
        // a position that funding settles on, step by step; cash = deposit + Σ received
        let qty = 0;
        const lines: Json[] = [];
        for (const st of I.steps as Json[]) {
          if (st.action === 'funding') lines.push({ op: 'fundingFee', side: qty >= 0 ? 'long' : 'short', qty: Math.abs(qty), price: st.mark, rate: st.rate });
          else qty = st.action.startsWith('open') ? st.qty : st.qty;
        }
        return {
          lines,
          check: (outs, close) => {
            let cash = I.deposit as number;
            const keys = ['cash_after_first_funding', 'cash_after_second_funding', 'cash_after_third_funding'];
            outs.forEach((o, i) => {
              cash += o.received as number;
              if (E[keys[i]!] !== undefined) close(cash, E[keys[i]!], keys[i]!);
            });
          },
        };
      }
      return {
        lines: [{ op: 'fundingFee', side: I.side, qty: I.amount, price: I.mark_price, rate: I.funding_rate }],
        check: ([o], close) => close(o!.received, E.funding_received, 'received'),
      };
    }
    case 'funding_rate':
      return {
        lines: [{ op: 'fundingRate', venue: 'hyperliquid', premium: I.premium, interestRate: I.interest_rate_8h }],
        check: ([o], close) => {
          close(o!.fundingRate8h, E.funding_rate_8h, 'fundingRate8h');
          close(o!.fundingRateHourly, E.funding_rate_hourly, 'fundingRateHourly');
        },
      };
    case 'liquidation_price': {
      const venue = venueOf(v.exchange);
      if (v.exchange === 'phemex') {
        // assignedPosBalance = OpenValue/leverage + closeFee, closeFee = bankruptcy value × taker (Phemex)
        const s = I.side === 'long' ? 1 : -1;
        const ov = I.size * I.contract_size * I.entry_price;
        const assigned = ov / I.leverage + ov * (1 - s / I.leverage) * I.taker_fee;
        return {
          lines: [{ op: 'liquidationPrice', venue: 'okx', mode: 'isolated', side: I.side, qty: I.size * I.contract_size, entryPrice: I.entry_price, walletBalance: assigned, mmr: I.mmr, maintenanceAmount: I.mm_amount, takerFee: I.taker_fee }],
          check: ([o], close) => {
            close(assigned, E.assigned_position_balance, 'assignedPosBalance');
            close(o!.liquidationPrice, E.liquidation_price, 'liquidationPrice');
          },
        };
      }
      let line: Json;
      if (venue === 'binance-usdm' && v.mode === 'cross') {
        line = {
          op: 'liquidationPrice',
          venue,
          mode: 'cross',
          walletBalance: I.wallet_balance,
          target: I.target,
          positions: I.positions.map((p: Json) => ({ symbol: p.symbol, side: p.side, qty: p.qty, entryPrice: p.entry, markPrice: p.mark, mmr: p.mmr, maintenanceAmount: p.cum })),
        };
      } else if (venue === 'binance-usdm') {
        line = { op: 'liquidationPrice', venue, mode: 'isolated', side: I.side, qty: I.qty, entryPrice: I.entry_price, walletBalance: I.wallet_balance ?? I.isolated_wallet, mmr: I.mmr, maintenanceAmount: I.maintenance_amount };
      } else if (venue === 'bybit-linear') {
        line = { op: 'liquidationPrice', venue, mode: 'isolated', side: I.side, qty: I.qty, entryPrice: I.entry_price, leverage: I.leverage, mmr: I.mmr, extraMargin: I.extra_margin ?? 0 };
      } else if (venue === 'hyperliquid') {
        line = { op: 'liquidationPrice', venue, mode: v.mode, side: I.side, qty: I.size, entryPrice: I.entry_price, margin: I.margin, maxLeverage: I.max_leverage };
      } else {
        line = { op: 'liquidationPrice', venue, mode: 'isolated', side: I.side, qty: I.qty, entryPrice: I.entry_price, walletBalance: I.wallet_balance, mmr: I.mmr, takerFee: I.taker_fee };
      }
      const lines = [line];
      if (I.mark_price !== undefined) lines.push({ op: 'position', side: I.side, qty: I.qty, entryPrice: I.entry_price, markPrice: I.mark_price, isolatedWallet: I.isolated_wallet });
      return {
        lines,
        check: ([o, p], close) => {
          close(o!.liquidationPrice, E.liquidation_price, 'liquidationPrice');
          if (E.unrealized_pnl !== undefined) close(p!.unrealizedPnl, E.unrealized_pnl, 'unrealizedPnl');
          if (E.isolated_margin !== undefined) close(p!.isolatedMargin, E.isolated_margin, 'isolatedMargin');
          if (E.notional !== undefined) close(p!.notional, E.notional, 'notional');
        },
      };
    }
    case 'maintenance_amount_table': {
      const br = I.brackets as Json[];
      const tiers = br.map((b) => ({ minNotional: b.floor, mmr: b.mmr, maxLeverage: b.max_leverage }));
      return {
        lines: br.map((b) => ({ op: 'maintenanceTier', notional: b.floor, tiers })),
        check: (outs, close) => {
          outs.forEach((o, i) => {
            close(o.maintenanceAmount, E.cum[i], `cum[${i}]`);
            close(o.maxLeverage, br[i]!.max_leverage, `maxLeverage[${i}]`);
          });
          // MM is continuous at every boundary: cap_i × mmr_i − cum_i = floor_{i+1} × mmr_{i+1} − cum_{i+1}
          let worst = 0;
          for (let i = 0; i + 1 < outs.length; i++) {
            const left = br[i]!.cap * (outs[i]!.mmr as number) - (outs[i]!.maintenanceAmount as number);
            const right = br[i + 1]!.floor * (outs[i + 1]!.mmr as number) - (outs[i + 1]!.maintenanceAmount as number);
            worst = Math.max(worst, Math.abs(left - right));
          }
          close(worst, E.mm_discontinuity_max, 'mm_discontinuity_max');
        },
      };
    }
    case 'margin_ratio': {
      if (I.total_maintenance_margin !== undefined) {
        return {
          lines: [{ op: 'marginRatio', walletBalance: I.wallet_balance, unrealizedPnl: I.unrealized_pnl, maintenanceMargin: I.total_maintenance_margin }],
          check: ([o], close) => {
            close(o!.marginBalance, E.margin_balance, 'marginBalance');
            expect(o!.liquidated, `${v.id}: liquidated`).toBe(E.liquidated);
          },
        };
      }
      // isolated: position margin = EP × Q / leverage, MM on the entry notional (the venue's example)
      const posMargin = (I.entry_price * I.qty) / I.leverage;
      const mm = I.entry_price * I.qty * I.mmr;
      const s = I.side === 'long' ? 1 : -1;
      return {
        lines: [
          { op: 'position', side: I.side, qty: I.qty, entryPrice: I.entry_price, markPrice: I.mark_price },
          { op: 'marginRatio', walletBalance: posMargin, unrealizedPnl: s * I.qty * (I.mark_price - I.entry_price), maintenanceMargin: mm },
        ],
        check: ([p, o], close) => {
          close(posMargin, E.position_margin, 'position_margin');
          close(mm, E.maintenance_margin, 'maintenance_margin');
          close(p!.unrealizedPnl, E.unrealized_pnl, 'unrealizedPnl');
          close(o!.marginRatio, E.margin_ratio, 'marginRatio');
        },
      };
    }
    case 'mm_bracket':
      return {
        lines: [{ op: 'maintenanceTier', notional: I.notional, tiers: I.tiers.map((t: Json) => ({ minNotional: t.minNotional, mmr: t.mmr, maintenanceAmount: t.cum })) }],
        check: ([o], close) => {
          close(o!.mmr, E.mmr, 'mmr');
          close(o!.maintenanceAmount, E.maintenance_amount, 'maintenanceAmount');
        },
      };
    case 'pnl': {
      if (I.open_rate !== undefined) {
        return {
          lines: [
            {
              op: 'tradePnl',
              side: I.side,
              qty: I.amount,
              entryPrice: I.open_rate,
              exitPrice: I.close_rate,
              feeRateOpen: I.fee_open,
              feeRateClose: I.fee_close,
              fundingReceived: I.funding_fees_received ?? 0,
              leverage: I.leverage,
            },
          ],
          check: ([o], close) => {
            close(o!.pnl, E.profit_abs, 'pnl');
            if (E.profit_ratio !== undefined) close(o!.profitRatio, E.profit_ratio, 'profitRatio');
          },
        };
      }
      return {
        lines: [{ op: 'position', side: I.side, qty: I.qty, entryPrice: I.entry_price, markPrice: I.mark_price }],
        check: ([o], close) => {
          close(o!.unrealizedPnl, E.unrealized_pnl, 'unrealizedPnl');
          close(o!.notional, E.notional, 'notional');
        },
      };
    }
    default:
      throw new Error(`vector ${v.id}: no translation for kind "${v.kind}" — add one to test/calc.vectors.test.ts`);
  }
}

const vectors = loadVectors();
const plans = vectors.map((v) => ({ v, p: plan(v) }));
let outputs: Json[] = [];
let exitCode: number | null = null;

beforeAll(() => {
  const input = plans.flatMap(({ p }) => p.lines.map((l) => JSON.stringify(l))).join('\n') + '\n';
  const r = spawnSync(process.execPath, [CLI_BIN, 'calc'], { input, encoding: 'utf8', cwd: root });
  exitCode = r.status;
  if (r.status !== 0) console.error(r.stderr);
  outputs = r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Json);
});

describe('public vectors through marginlab calc', () => {
  it('has the 48 public cases and handles every line (exit 0)', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(48);
    expect(outputs.length).toBe(plans.reduce((n, { p }) => n + p.lines.length, 0));
    expect(outputs.filter((o) => 'error' in o)).toEqual([]);
    expect(exitCode).toBe(0);
  });

  let at = 0;
  const slices = plans.map(({ v, p }) => {
    const start = at;
    at += p.lines.length;
    return { v, p, start };
  });
  it.each(slices.map((s) => [s.v.id, s]))('%s', (_id, s) => {
    const { v, p, start } = s as (typeof slices)[number];
    const outs = outputs.slice(start, start + p.lines.length);
    const tol = v.tolerance;
    p.check(outs, (got, exp, what) => {
      expect(typeof got, `${v.id} ${what}: got ${JSON.stringify(got)}`).toBe('number');
      const g = got as number;
      const err = Math.abs(g - exp);
      const ok = (tol.abs !== undefined && err <= tol.abs) || (tol.rel !== undefined && err <= tol.rel * Math.abs(exp)) || err === 0;
      expect(ok, `${v.id} ${what}: got ${g}, expected ${exp} (tolerance ${JSON.stringify(tol)})`).toBe(true);
    });
  });
});
