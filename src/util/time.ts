/**
 * The one date parser for user input (config from/to, `run --from/--to`, `data synth --start`,
 * `calc` asOf and funding times): ms UTC as an integer (number or digit string), or an ISO-8601
 * date / date-time. A date, or a date-time without an offset, is UTC (never the machine's local
 * time), so the same input means the same instant on every machine. A space may stand for the
 * 'T' ("2021-09-01 08:00:00Z", as freqtrade writes times). Anything else is null.
 */
export function parseDate(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  const s = v.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (/^\d+$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return null;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}
