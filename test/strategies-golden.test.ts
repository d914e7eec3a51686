/**
 * Every library strategy on the bundled real data under isolated, cross and mixed, compared with
 * the checked-in goldens (test/golden/<strategy>.json). A difference fails the test; goldens are
 * regenerated only by `npm run goldens:update` (scripts/update-goldens.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeGoldens, goldenFile, type Golden } from './golden/compute.js';
import { listStrategies } from '../src/strategy/registry.js';
import { Decimal as DecimalJs } from 'decimal.js';

const BigDecimal = DecimalJs.clone({ precision: 80 });

describe('strategy goldens (data/binance-usdm-2025, 1h)', async () => {
  const goldens = await computeGoldens();
  it('covers every library strategy', async () => {
    const names = (await listStrategies()).map((s) => s.name);
    expect(goldens.map((g) => g.strategy)).toEqual(names);
    for (const n of ['sma-cross', 'breakout', 'pairs', 'funding-carry', 'grid', 'core-satellite', 'martingale', 'buy-and-hold']) {
      expect(names).toContain(n);
    }
  });
  for (const g of goldens) {
    it(`${g.strategy} matches its golden`, () => {
      const file = goldenFile(g.strategy);
      expect(existsSync(file), `missing ${file}: run npm run goldens:update`).toBe(true);
      const want = JSON.parse(readFileSync(file, 'utf8')) as Golden;
      expect(JSON.parse(JSON.stringify(g))).toEqual(want);
      for (const s of Object.values(g.setups)) expect(s.error).toBeNull();
    });
  }
  it('the books balance exactly: deposit + pnl − fees + funding − penalties + insurance = wallet', () => {
    const Decimal = BigDecimal;
    for (const g of goldens) {
      for (const s of Object.values(g.setups)) {
        const b = s.books;
        const sum = new Decimal(b.initialDeposit!)
          .plus(b.realizedPnl!)
          .minus(b.fees!)
          .plus(b.fundingReceived!)
          .minus(b.fundingPaid!)
          .minus(b.liquidationPenalties!)
          .plus(b.insuranceDraws!);
        expect(sum.eq(b.wallet!), `${g.strategy}: ${sum} vs ${b.wallet}`).toBe(true);
      }
    }
  });
});
