/**
 * The one date parser for user input (config from/to, `run --from/--to`, `data synth --start`,
 * `calc` asOf and funding times): ms UTC as an integer (number or digit string), or an ISO-8601
 * date / date-time. A date, or a date-time without an offset, is UTC (never the machine's local
 * time), so the same input means the same instant on every machine. A space may stand for the
 * 'T' ("2021-09-01 08:00:00Z", as freqtrade writes times). Anything else is null, and so is an
 * integer beyond a Date's range or one that reads as a compact date or epoch seconds (misreadMs:
 * 20250101 is not 2025-01-01 but 1970-01-01T05:37:30Z as ms).
 */
export function parseDate(v: string | number): number | null {
  if (typeof v === 'number') return msOrNull(v);
  const s = v.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (/^\d+$/.test(s)) return msOrNull(Number(s));
  if (!/^\d{4}-\d{2}-\d{2}/.test(s) || !isCalendarDate(s)) return null;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

const isoOf = (ms: number): string => new Date(ms).toISOString();

/** the largest time a Date holds (ms UTC, year 275760): beyond it every date formatting throws */
const MAX_DATE_MS = 8.64e15;

/** an integer as ms UTC: within a Date's range, and not an integer that reads as something else (misreadMs) */
const msOrNull = (n: number): number | null => (Number.isInteger(n) && n >= 0 && n <= MAX_DATE_MS && misreadMs(n) === null ? n : null);

/**
 * What an integer given as ms UTC most likely meant when it cannot be ms of any data: a compact
 * date (20250101, 8 digits: ms 20250101 is 1970-01-01T05:37:30Z), epoch seconds (10 digits: as ms
 * they fall in January to April 1970) or a compact date-time (20250101120000, 14 digits: as ms
 * after the year 2286). parseDate refuses these; this is the hint of the message. null: no such reading.
 */
export function misreadMs(n: number): string | null {
  if (!Number.isSafeInteger(n) || n < 0) return null;
  const digits = String(n);
  const compact = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?$/.exec(digits);
  if (compact && Number(compact[1]) >= 1970) {
    const day = `${compact[1]}-${compact[2]}-${compact[3]}`;
    const time = compact[4] === undefined ? '' : `T${compact[4]}:${compact[5]}:${compact[6]}Z`;
    if (isCalendarDate(day) && (time === '' || Number.isFinite(Date.parse(`${day}${time}`))))
      return `${digits} reads as ms UTC (${isoOf(n)}), not as the ${time === '' ? 'compact date' : 'compact date-time'} it looks like: write '${day}${time}'`;
  }
  if (digits.length === 10) return `${digits} reads as ms UTC (${isoOf(n)}), not as the epoch seconds it looks like (${isoOf(n * 1000)}): write ${n * 1000} (ms) or an ISO date`;
  return null;
}

/** ' (hint)' for a date input that parseDate refused because it reads as ms UTC no data has (misreadMs), else '' */
export function dateHint(v: unknown): string {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  const m = misreadMs(n);
  return m === null ? '' : ` (${m})`;
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
