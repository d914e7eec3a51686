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
  if (!/^\d{4}-\d{2}-\d{2}/.test(s) || !isCalendarDate(s)) return null;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Whether the YYYY-MM-DD a string starts with is a day of the calendar. Date.parse rolls a day past
 * the month's end over into the next month ('2025-02-30' is 2 March, '2025-02-29' is 1 March), which
 * would move a typo silently to another day.
 */
export function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) return false;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}
