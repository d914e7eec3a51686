import { describe, expect, it } from 'vitest';
import { fmtMetric, rejectionsLabel } from '../src/report/format.js';

describe('report number formats', () => {
  it("the margin ratio's cap is printed as a bound (it read '1,000%', a ratio no pool had)", () => {
    expect(fmtMetric('marginRatioMax', 1000)).toBe('≥ 1,000%');
    expect(fmtMetric('marginRatioMax', 999.9)).toBe('999.9%');
    expect(fmtMetric('marginRatioMax', 100)).toBe('100.0%');
    expect(fmtMetric('marginRatioMax', null)).toBe('—');
    // another metric of 1,000 % is a figure
    expect(fmtMetric('totalReturn', 1000)).toBe('+1,000%');
  });

  it('rejection counts are grouped as every other count (2482 beside 2,525)', () => {
    expect(rejectionsLabel({ invalidQuantity: 2482, insufficientMargin: 43 })).toBe('insufficientMargin 43, invalidQuantity 2,482');
    expect(rejectionsLabel({})).toBe('');
  });
});
