/**
 * The decimal a float32 value was written from: the shortest decimal (6 to 9 significant digits: every 6-digit decimal
 * survives float32) that rounds to the float32 value `f` (100.1, not 100.0999984741211), as a float32 formatter prints
 * it. The one reading of a float32 price, for Arrow and Parquet columns alike.
 */
export function float32Decimal(f: number): number {
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 6; p < 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return Number(f.toPrecision(9));
}
