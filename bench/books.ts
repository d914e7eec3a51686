/**
 * npm run bench:books — what booking costs, measured in one run:
 *  1. the representation: a fill's ledger additions (cross wallet, fees, realised PnL, cost basis,
 *     isolated wallet) on BigInt units against safe-integer doubles (the choice of issue 9);
 *  2. Account.trade() alone, one fill after another (open, flip), with tick prices (the double
 *     fast path) and with 17-digit prices (synthetic or slipped prices: the exact BigInt path);
 *     isolated and cross.
 * It measures; it never asserts a time.
 */
import { loadavg } from 'node:os';
import { createAccount } from '../src/account/index.js';
import { getVenue } from '../src/venue/index.js';

const N = Number(process.env.BENCH_FILLS ?? 200_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);

function representation(): { bigintNs: number; doubleNs: number } {
  let bestB = Infinity;
  let bestD = Infinity;
  const M = 2_000_000;
  let sink = 0;
  for (let r = 0; r < REPEAT; r++) {
    let t = performance.now();
    let cw = 100_000_000_000_000n;
    let fees = 0n;
    let real = 0n;
    let cost = 0n;
    let iso = 0n;
    for (let i = 0; i < M; i++) {
      const fee = BigInt(12_345 + (i & 7));
      const pnl = BigInt((i & 15) - 7) * 1000n;
      cw = cw - fee + pnl;
      fees += fee;
      real += pnl;
      cost = cost + 6_543_210n - (cost >> 1n);
      iso += 5n;
    }
    bestB = Math.min(bestB, performance.now() - t);
    sink += Number(cw % 7n + fees % 7n + real % 7n + iso % 7n);
    t = performance.now();
    let cwn = 1e14;
    let feesn = 0;
    let realn = 0;
    let costn = 0;
    let ison = 0;
    for (let i = 0; i < M; i++) {
      const fee = 12_345 + (i & 7);
      const pnl = ((i & 15) - 7) * 1000;
      cwn = cwn - fee + pnl;
      feesn += fee;
      realn += pnl;
      costn = costn + 6_543_210 - Math.floor(costn / 2);
      ison += 5;
      if (!(cwn < 2 ** 53 && feesn < 2 ** 53 && costn < 2 ** 53)) throw new Error('overflow');
    }
    bestD = Math.min(bestD, performance.now() - t);
    sink += (cwn % 7) + (realn % 7) + (ison % 7);
  }
  if (sink === 0.5) process.stdout.write('');
  return { bigintNs: (bestB * 1e6) / M, doubleNs: (bestD * 1e6) / M };
}

function trades(kind: 'tick' | '17-digit', mode: 'isolated' | 'cross'): number {
  const venue = getVenue('binance-usdm');
  const prices = new Float64Array(N);
  let p = 60_000;
  for (let i = 0; i < N; i++) {
    p *= 1 + Math.sin(i * 12.9898) * 0.001;
    prices[i] = kind === 'tick' ? Math.round(p * 10) / 10 : p;
  }
  let best = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const a = createAccount({ venue, symbols: ['BTCUSDT'], initialDeposit: '1000000', defaultMode: mode, leverage: 20, asOfMs: Date.parse('2025-01-01') });
    const t = performance.now();
    for (let i = 0; i < N; i++) {
      const target = (i & 1 ? 1 : -1) * 0.01 * (1 + (i % 3));
      const f = a.trade({ symbol: 0, qty: target - a.positionQty(0), price: prices[i]!, liquidity: 'taker', time: i });
      if (!f.ok) throw new Error(`bench:books: trade ${i} rejected: ${f.message}`);
    }
    best = Math.min(best, performance.now() - t);
  }
  return (best * 1000) / N;
}

const rep = representation();
process.stdout.write(
  `books benchmark (best of ${REPEAT}, load average ${loadavg()[0]!.toFixed(2)})\n` +
    `  a fill's five ledger additions: BigInt units ${rep.bigintNs.toFixed(1)} ns, safe-integer doubles ${rep.doubleNs.toFixed(1)} ns\n`,
);
const out: Record<string, number> = { bigintAddsNs: Number(rep.bigintNs.toFixed(1)), doubleAddsNs: Number(rep.doubleNs.toFixed(1)) };
for (const kind of ['tick', '17-digit'] as const)
  for (const mode of ['isolated', 'cross'] as const) {
    const us = trades(kind, mode);
    out[`tradeUs_${kind}_${mode}`] = Number(us.toFixed(3));
    process.stdout.write(`  Account.trade, ${kind} prices, ${mode}: ${us.toFixed(3)} µs per fill (${N.toLocaleString('en')} fills, each a flip or a resize)\n`);
  }
process.stdout.write(`${JSON.stringify(out)}\n`);
