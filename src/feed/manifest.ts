/**
 * The dataset manifest (`manifest.json` in the dataset folder): which files hold which symbol,
 * kind and timeframe, plus venue and provenance. Format documented in docs/data-format.md.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { dataError, missingInput } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { timeframeMsOrNaN } from './timeframe.js';
import { withFsErrors } from '../util/fs-errors.js';
import { isInside, realPathOf } from '../util/outdir.js';
import { SAMPLE_DATA } from '../util/package-root.js';
import { jsonFaultText } from '../util/json-text.js';
import { issueMessage, oneLine, valueAt } from '../util/issue-text.js';
import { cliCommand, shellArg, shellPath } from '../util/shell.js';
import { shownPath } from '../util/module-default.js';

export const MANIFEST_FILE = 'manifest.json';
export const FORMAT_ID = 'marginlab-dataset';
export const FORMAT_VERSION = 1;

export type FileKind = 'candles' | 'mark' | 'funding';

const timeframeSchema = z.string().refine((s) => Number.isFinite(timeframeMsOrNaN(s)), {
  message: 'expected a timeframe such as 1m, 1h, 8h, 1d',
});

const fileSchema = z.object({
  /** path relative to the dataset folder */
  // no '..' step and not absolute; '..' inside a name ('..-candles-1h.arrow', a symbol's dots) is a file of the folder
  path: z.string().min(1).refine((p) => !p.split(/[\\/]/).includes('..') && !/^[\\/]/.test(p), { message: 'must be a relative path inside the dataset folder' }),
  symbol: z.string().min(1),
  kind: z.enum(['candles', 'mark', 'funding']),
  /** candle timeframe (candles and mark); for funding the nominal interval (informational) */
  timeframe: timeframeSchema.optional(),
  rows: z.number().int().nonnegative(),
  /** first and last timestamp, ms UTC (null when the file has no rows) */
  first: z.number().nullable(),
  last: z.number().nullable(),
  /** sha256 hex of the file; checked on load */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const manifestSchema = z.object({
  format: z.literal(FORMAT_ID),
  version: z.literal(FORMAT_VERSION),
  name: z.string().min(1),
  venue: z.string().min(1),
  /** default candle timeframe of the dataset */
  timeframe: timeframeSchema,
  symbols: z.array(z.string().min(1)).min(1),
  files: z.array(fileSchema),
  provenance: z.string().default(''),
  /** free-form parameters (e.g. the synth settings) */
  generator: z.record(z.string(), z.unknown()).optional(),
});

export type ManifestFile = z.infer<typeof fileSchema>;
export type Manifest = z.infer<typeof manifestSchema>;

/** Market-data files a user may have (CSV, freqtrade feather/json, Binance zips, Arrow), which a dataset folder holds only with its manifest. */
const DATA_FILE = /\.(?:csv|tsv|txt|feather|arrow|parquet|json|zip|gz)$/i;
/** a series file a dataset holds (dataFileName): BTCUSDT-candles-1h.arrow, BTCUSDT-mark-1h.arrow, BTCUSDT-funding.arrow */
const SERIES_FILE = /-(?:(?:candles|mark)-[^-]+|funding)\.arrow$/;

/** CSV files (plain or gzipped), which `import` reads as a Binance or venue export by name or content, else as a CSV of the user's own columns */
const CSV_FILE = /\.(?:csv|tsv|txt)(?:\.gz)?$/i;

/** An input of `marginlab import` as a command line gives it: `./csv`, not `csv` (that is the `import csv` subcommand). */
function inputArg(path: string): string {
  const shown = shownPath(path);
  return shellArg(isAbsolute(shown) || shown.startsWith('.') ? shown : `./${shown}`);
}

/** Where to import the data files at `path` (a file or a folder): data/<name> of the working folder, or beside it when that is the path itself. */
function datasetFolderFor(path: string): string {
  const name = basename(path).replace(/\.[^.]*$/, '') || 'mine';
  const at = resolve('data', name);
  return at === resolve(path) ? `${resolve(path)}-dataset` : at;
}

/** Read and validate `<dir>/manifest.json`: 66 when the folder or manifest is missing, 65 when it is malformed. */
export function readManifest(dir: string): { manifest: Manifest; raw: Buffer } {
  if (!existsSync(dir)) throw missingInput(`dataset folder not found: ${dir} (make one with \`${cliCommand(`import <files> --out ${shellPath(dir)}`)}\` or \`${cliCommand(`data synth --symbols 4 --bars 20000 --timeframe 1h --out ${shellPath(dir)}`)}\`, marginlab's docs/data.md; the sample dataset bundled with marginlab is ${SAMPLE_DATA})`);
  if (!statSync(dir).isDirectory()) {
    // a file where the dataset folder goes: its manifest.json or a data file of it, or a file of the user's own data
    const folder = dirname(dir);
    throw missingInput(
      existsSync(join(folder, MANIFEST_FILE))
        ? `${dir} is a file, not a dataset folder: give the dataset folder ${shellPath(folder)}, which holds the ${MANIFEST_FILE}`
        : `${dir} is a file, not a dataset folder (a folder with a ${MANIFEST_FILE}): import it into one (\`${cliCommand(`import ${inputArg(dir)} --out ${shellPath(datasetFolderFor(dir))}`)}\`, marginlab's docs/data.md) and give that folder${CSV_FILE.test(dir) ? `; a CSV of your own columns (not a Binance or venue export) also needs its kind and symbol: \`${cliCommand(`import ${inputArg(dir)} --kind candles --symbol BTCUSDT --out ${shellPath(datasetFolderFor(dir))}`)}\`` : ''}`,
    );
  }
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    // a folder of the user's data files (freqtrade's, Binance's, CSVs): import into it is refused (it is the input), so into a folder of its own
    // (hidden files are no data: marginlab's own .marginlab.json was counted as one)
    const data = readdirSync(dir).filter((n) => !n.startsWith('.') && DATA_FILE.test(n)).sort();
    // a dataset's own series files whose manifest is gone: no import reads them (.arrow is not an import format)
    if (data.length > 0 && data.every((n) => SERIES_FILE.test(n))) {
      throw missingInput(
        `dataset manifest not found: ${path}: ${shellPath(dir)} holds a dataset's series files (${data.slice(0, 2).join(', ')}${data.length > 2 ? ` and ${data.length - 2} more` : ''}) but its ${MANIFEST_FILE} is gone; restore it from a copy, or import the data again from its sources into a new folder (marginlab's docs/data.md)`,
      );
    }
    if (data.length > 0) {
      throw missingInput(
        `dataset manifest not found: ${path}: ${shellPath(dir)} holds data files (${data.slice(0, 2).join(', ')}${data.length > 2 ? ` and ${data.length - 2} more` : ''}) but is not a dataset; import them into a dataset folder of their own (\`${cliCommand(`import ${inputArg(dir)} --out ${shellPath(datasetFolderFor(dir))}`)}\`, marginlab's docs/data.md) and give that folder`,
      );
    }
    throw missingInput(`dataset manifest not found: ${path} (a dataset folder needs a ${MANIFEST_FILE}; create one with \`${cliCommand(`import <files> --out ${shellPath(dir)}`)}\` or \`${cliCommand(`data synth --symbols 4 --bars 20000 --timeframe 1h --out ${shellPath(dir)}`)}\`)`);
  }
  const raw = withFsErrors({ path, action: 'read the dataset manifest', role: 'input' }, () => readFileSync(path));
  let json: unknown;
  const text = raw.toString('utf8').replace(/^\uFEFF/, ''); // an editor's byte-order mark (Windows Notepad) is not JSON, but not an error either
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw dataError(`${path}: not valid JSON (${jsonFaultText(text, e)}); fix the file by hand or restore it from a copy (an import into this folder refuses it too: if it is lost, import your data into a new folder)`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.length ? oneLine(i.path.join('.')) : '(root)'}: ${issueMessage(i, { value: valueAt(json, i.path) }, { ownWithValue: true })}`);
    throw dataError(`${path}: invalid dataset manifest (${details.length} problem${details.length === 1 ? '' : 's'})`, details);
  }
  const m = parsed.data;
  const problems: string[] = [];
  const dupSymbols = m.symbols.filter((x, i) => m.symbols.indexOf(x) !== i);
  if (dupSymbols.length) problems.push(`symbols: ${[...new Set(dupSymbols)].join(', ')} listed twice`);
  // the rules an import applies to a symbol (a manifest written by hand or by another tool meets them too)
  const byCase = new Map<string, string>();
  for (const x of new Set(m.symbols)) {
    const bad = symbolProblem(x);
    if (bad) problems.push(`symbols: '${oneLine(x)}' ${bad}`);
    const other = byCase.get(x.toLowerCase());
    if (other !== undefined) problems.push(`symbols: '${oneLine(other)}' and '${oneLine(x)}' differ only in letter case (their files cannot both live in a folder on every file system); import one of them into another dataset`);
    else byCase.set(x.toLowerCase(), x);
  }
  const seen = new Set<string>();
  for (const f of m.files) {
    if (seen.has(f.path)) problems.push(`files: path '${f.path}' listed twice`);
    seen.add(f.path);
    if (!m.symbols.includes(f.symbol)) problems.push(`files: '${f.path}' has symbol '${f.symbol}', which is not in symbols [${m.symbols.join(', ')}]`);
    if (f.kind !== 'funding' && !f.timeframe) problems.push(`files: '${f.path}' (${f.kind}) needs a timeframe`);
  }
  const key = new Set<string>();
  for (const f of m.files) {
    const k = `${f.symbol}|${f.kind}|${f.kind === 'funding' ? '' : f.timeframe}`;
    if (key.has(k)) problems.push(`files: more than one ${f.kind} file for ${f.symbol}${f.kind === 'funding' ? '' : ` at ${f.timeframe}`}`);
    key.add(k);
  }
  if (problems.length) throw dataError(`${path}: invalid dataset manifest (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  return { manifest: m, raw };
}

/**
 * Why the file of a manifest entry cannot be read as one, or null: missing (66 for every command),
 * a symbolic link resolving outside the dataset folder (a dataset is the folder, and its hashes
 * describe the folder, as for a '..' path), or a folder (65). One home for the loader and
 * `data inspect`, so inspect never calls a dataset clean that a load refuses.
 */
export function entryFault(dir: string, f: ManifestFile): { missing: boolean; text: string } | null {
  const path = join(dir, f.path);
  if (!existsSync(path)) return { missing: true, text: `file listed in the manifest is missing: ${path} (restore it, re-import the series, or remove its entry from manifest.json)` };
  // the file itself a link, or a folder on its path (sub/x.arrow with sub a link): where it resolves counts
  const target = realPathOf(path);
  if (!isInside(target, realPathOf(dir))) {
    const how = lstatSync(path).isSymbolicLink() ? 'is a symbolic link to' : 'resolves, through a linked folder on its path, to';
    return { missing: false, text: `${f.path} ${how} ${target}, outside the dataset folder; copy the file into the folder (links inside it are fine)` };
  }
  if (statSync(path).isDirectory()) return { missing: false, text: `${f.path} (listed in manifest.json) is a folder, not an Arrow file; fix the manifest entry` };
  return null;
}

/** Serialise deterministically (stable key order as built, 2-space indent, trailing newline). */
export function manifestToJson(m: Manifest): string {
  const ordered: Manifest = {
    format: FORMAT_ID,
    version: FORMAT_VERSION,
    name: m.name,
    venue: m.venue,
    timeframe: m.timeframe,
    symbols: m.symbols,
    files: [...m.files]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((f) => ({ path: f.path, symbol: f.symbol, kind: f.kind, ...(f.timeframe ? { timeframe: f.timeframe } : {}), rows: f.rows, first: f.first, last: f.last, sha256: f.sha256 })),
    provenance: m.provenance,
    ...(m.generator ? { generator: m.generator } : {}),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

export function writeManifest(dir: string, m: Manifest): void {
  writeFileAtomic(join(dir, MANIFEST_FILE), manifestToJson(m));
}

/**
 * A symbol as a file-name part, injectively: letters, digits, '.' and '-' stay; every other byte
 * of its UTF-8 form, '_' included, becomes '_' and two hex digits ('BTC/USDT:USDT' →
 * 'BTC_2FUSDT_3AUSDT', 'BTC_USDT_USDT' → 'BTC_5FUSDT_5FUSDT'), so distinct symbols never share a
 * file. Plain names such as BTCUSDT are unchanged.
 */
export function symbolFilePart(symbol: string): string {
  let out = '';
  for (const ch of symbol) {
    if (/^[A-Za-z0-9.-]$/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `_${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Why `symbol` cannot name a series, or null: it becomes a file name (symbolFilePart) and a word
 * in one-line messages and CSV reports, so 1 to 64 characters, no spaces or control characters
 * (letters of any script are fine: exchanges list such symbols), and a file-name part of at most
 * 150 bytes. The one rule for --symbol and for the symbols inputs name (Bybit, OKX, Binance file names).
 */
export function symbolProblem(symbol: string): string | null {
  const chars = [...symbol].length;
  if (chars === 0) return 'is empty';
  if (chars > 64) return `has ${chars} characters (at most 64; it becomes a file name)`;
  // a key of the plain objects results and reports hold per symbol: '__proto__' there set an object's prototype (its prices vanished)
  if (symbol === '__proto__') return "is '__proto__', a name JavaScript objects reserve; rename the symbol";
  if (/[\s\p{Cc}\p{Cf}]/u.test(symbol)) return 'holds a space or a control character';
  if (symbolFilePart(symbol).length > 150) return 'is too long once written as a file name (at most 150 bytes)';
  return null;
}

/** Canonical file name of a data file inside a dataset folder. */
export function dataFileName(symbol: string, kind: FileKind, timeframe?: string): string {
  const safe = symbolFilePart(symbol);
  return kind === 'funding' ? `${safe}-funding.arrow` : `${safe}-${kind}-${timeframe}.arrow`;
}

/**
 * Where the series (symbol, kind, timeframe) lives in a dataset: the path its manifest already
 * lists for it, else the canonical name. Throws (65) when that name is already used by another
 * series, also when the two differ only in letter case (case-insensitive file systems).
 */
export function seriesPath(m: Manifest | null, symbol: string, kind: FileKind, timeframe?: string): string {
  const same = (f: ManifestFile) => f.symbol === symbol && f.kind === kind && (kind === 'funding' || f.timeframe === timeframe);
  const listed = m?.files.find(same);
  if (listed) return listed.path;
  const rel = dataFileName(symbol, kind, timeframe);
  const clash = m?.files.find((f) => !same(f) && f.path.toLowerCase() === rel.toLowerCase());
  if (clash) {
    throw dataError(`${kind} ${symbol}: its file name ${rel} is already used by ${clash.kind} ${clash.symbol} (${clash.path}); symbols that differ only in letter case cannot share a dataset on every file system; import one of them into another dataset`);
  }
  return rel;
}
