/**
 * A decimal number written as text, as marginlab writes money in its result files ("1234.5",
 * "-0.0004", "1e-8") and as flags carry numbers: an optional sign, digits with an optional point,
 * an optional exponent. Nothing else: no hex (`0x10`), binary, `Infinity`, `NaN`, separators or
 * an empty string, all of which `Number()` would read as something.
 */
export const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** the number a decimal text stands for (surrounding blanks ignored), or null when it is not one; ±Infinity when it overflows a double */
export function parseDecimalText(s: string): number | null {
  const t = s.trim();
  return DECIMAL_TEXT.test(t) ? Number(t) : null;
}
