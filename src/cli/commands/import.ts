/**
 * `marginlab import <file|folder...> --out <dataset> [--format binance|freqtrade|bybit|okx|csv|parquet]`:
 * read market data in the formats researchers have into a dataset folder (docs/data.md).
 * `marginlab import csv <file> ...` is the same as `--format csv`. New rows extend a symbol's
 * series; overlapping rows must be identical (else exit 65, nothing written); `--replace` replaces.
 * Exit codes: 0 ok · 64 bad flags · 65 bad rows / conflicts / missing columns (nothing written) ·
 * 66 file not found · 130 interrupted (src/util/interrupt.ts: temp files and lock removed, the dataset as it was).
 */
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { visible } from '../../util/excerpt.js';
import { cliCommand } from '../../util/shell.js';

/** a tab-separated file by its name (`prices.tsv`, `prices.tsv.gz`): its delimiter is a tab unless --delimiter says otherwise */
const TSV_FILE = /\.tsv(\.gz)?$/i;

/** What a Ctrl-C after the commit says is left (the default, "as it was before", is true only until then). */
const COMMITTED = (dir: string): string => `the import was written into ${dir} before the interrupt (only its summary is missing)`;

interface ImportFlags {
  format?: string; kind?: string; symbol?: string; timeframe?: string; out: string; venue?: string;
  skipBadRows?: boolean; delimiter?: string; provenance?: string; replace?: boolean; columns?: string;
  header: boolean; contractSize?: string;
}

/** the header cells a CSV or Parquet import left unread because another cell named the same column (mapHeader's alsoNamed) */
function columnNotes(alsoNamed: readonly string[] | undefined): void {
  for (const a of alsoNamed ?? []) process.stderr.write(`marginlab: ${a} (give --columns to read another)\n`);
}

/**
 * --venue: a built-in venue's id (its short name, 'bybit', read as the id), as a config names it. Any other name
 * was written into the manifest as it was, where no run could match it: a config under another venue replayed the
 * data without the venue-mismatch warning.
 */
async function importVenue(name: string): Promise<string> {
  const { venueIdOf, venueIds, VENUE_ALIASES } = await import('../../venue/index.js');
  const id = venueIdOf(name);
  if (venueIds().includes(id)) return id;
  const [{ didYouMean }, { excerpt }] = await Promise.all([import('../../util/nearest.js'), import('../../util/excerpt.js')]);
  throw usageError(`--venue: unknown venue '${excerpt(name, 40)}'${didYouMean(name, [...venueIds(), ...Object.keys(VENUE_ALIASES)])}; known venues: ${venueIds().join(', ')} (the venue a config names to replay the dataset)`);
}

/** --venue given for a dataset whose manifest already names another venue: kept as it is (written when the manifest is created), and said */
function venueKept(flag: string | undefined, manifestVenue: string, out: string): void {
  if (flag !== undefined && flag !== manifestVenue)
    process.stderr.write(`marginlab: warning: --venue ${flag} left out: the dataset ${visible(out)} already names venue ${manifestVenue} (--venue is written when a dataset is created); a config's venue chooses the rules a run replays it under\n`);
}

/** funding files no venue would publish (rates as percentages, events every minute): said at the import as at every load */
export async function fundingWarnings(results: readonly { kind: string; symbol: string; path: string }[]): Promise<void> {
  const funding = results.filter((r) => r.kind === 'funding');
  if (funding.length === 0) return;
  const { importedFundingWarnings } = await import('../../feed/ingest.js');
  for (const r of funding) for (const w of importedFundingWarnings(r.path, r.symbol)) process.stderr.write(`marginlab: warning: ${w}\n`);
}

/**
 * What an imported series' rows say about it, as warnings: gaps (it imports, its rows are right, but a run refuses it by
 * default: gapWarningText) and times before any crypto market (earlyTimeText)
 */
export async function seriesWarnings(series: string, r: Pick<import('../../feed/ingest.js').CommitResult, 'gaps' | 'widestGap' | 'gapsBefore' | 'first'>, timeframe: string | undefined, by: 'import' | 'download' = 'import'): Promise<void> {
  const { earlyTimeText, gapWarningText } = await import('../../feed/ingest.js');
  for (const w of [earlyTimeText(series, r.first), gapWarningText(series, r, timeframe, by)]) if (w) process.stderr.write(`marginlab: warning: ${w}\n`);
}

export function register(program: Command): void {
  program
    .command('import <paths...>')
    .description('import market data (Binance public data, freqtrade, Bybit, OKX, any CSV or Parquet file) into a dataset folder; appends, --replace replaces')
    .requiredOption('--out <dataset>', 'dataset folder (created if missing)')
    .option('--format <f>', 'binance | freqtrade | bybit | okx | csv | parquet (default: detected from the files)')
    .option('--kind <kind>', 'candles | mark | funding (csv, parquet: required; others: when the file does not tell)')
    .option('--symbol <symbol>', 'symbol, e.g. BTCUSDT (csv, parquet: required; others: overrides the name in the file)')
    .option('--timeframe <tf>', 'candle timeframe, e.g. 1h (without it: the file name, or the rows\' spacing; csv from a pipe: required; checked against the data)')
    .option('--replace', 'replace the dataset\'s series instead of appending to it')
    .option('--venue <id>', 'venue written when the manifest is created (default: bybit-linear for bybit data, okx for okx, else binance-usdm)')
    .option('--provenance <text>', 'provenance line added to the manifest')
    .option('--columns <spec>', 'csv, parquet: column mapping, e.g. timestamp=open_time,open=o,... (csv: or the columns in order)')
    .option('--no-header', 'csv: the file has no header line (--columns lists the columns in order)')
    .option('--delimiter <c>', 'csv: field delimiter (\\t: a tab; default: a tab for a .tsv file, else \',\')')
    .option('--skip-bad-rows', 'csv: leave bad rows out (reported and counted) instead of failing')
    .option('--contract-size <n>', 'okx: base units per contract (ctVal) when the built-in table lacks the symbol')
    .action(async (paths: string[], flags: ImportFlags) => {
      let format = flags.format;
      if (paths[0] === 'csv' && paths.length > 1) { format ??= 'csv'; paths = paths.slice(1); }
      const { IMPORT_FORMATS, detectFormat, readSources, unreadFiles } = await import('../../feed/formats/index.js');
      if (format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(format)) throw usageError(`--format: expected ${IMPORT_FORMATS.join(', ')}, got '${format}'`);
      if (flags.kind !== undefined && flags.kind !== 'candles' && flags.kind !== 'mark' && flags.kind !== 'funding') {
        throw usageError(`--kind: expected candles, mark or funding, got '${flags.kind}'`);
      }
      let kind = flags.kind as 'candles' | 'mark' | 'funding' | undefined;
      const { errnoOf, fsError } = await import('../../util/fs-errors.js');
      let fmt: (typeof IMPORT_FORMATS)[number];
      try {
        fmt = (format ?? detectFormat(paths)) as (typeof IMPORT_FORMATS)[number];
      } catch (err) {
        // an input (or a folder inside one) that cannot be read: 66 naming it
        const at = (err as { path?: unknown } | null)?.path;
        if (errnoOf(err) && typeof at === 'string') throw fsError(err, { path: at, action: 'read the input', role: 'input' });
        throw err;
      }
      if (fmt !== 'csv' && (flags.header === false || flags.skipBadRows || (fmt !== 'parquet' && flags.columns !== undefined))) {
        throw usageError(`${fmt === 'parquet' ? '--no-header and --skip-bad-rows apply' : '--columns, --no-header and --skip-bad-rows apply'} to --format csv only${fmt === 'parquet' ? ' (--columns to csv and parquet)' : ''} (this is ${fmt} data)`);
      }
      if (flags.venue !== undefined) flags.venue = await importVenue(flags.venue);
      const t0 = performance.now();
      // the dataset folder: new, empty, marginlab's, or an existing dataset (it has a manifest.json), never an input file; locked while written
      const { openOutDir } = await import('../../util/outdir.js');
      const { resolve } = await import('node:path');
      const { statSync } = await import('node:fs');
      const isDir = (p: string): boolean => {
        try {
          return statSync(p).isDirectory();
        } catch {
          return false;
        }
      };
      // an input folder (of dumps) may not be, hold or sit inside the output; an input file may not be it
      const out = openOutDir(flags.out, {
        kind: 'dataset',
        inputs: paths.filter(isDir).map((p) => ({ label: 'input folder', path: resolve(p) })),
        notEqual: paths.filter((p) => !isDir(p)).map((p) => ({ label: 'input file', path: resolve(p) })),
        accept: (_dir, entries) => entries.includes('manifest.json'),
        forceFlag: false,
      });
      try {
        if (fmt === 'csv') {
          // first: several files would be told to add --symbol, then that they are too many
          if (paths.length !== 1) {
            const [{ excerptList }, { basename }] = await Promise.all([import('../../util/excerpt.js'), import('node:path')]);
            throw usageError(
              `a CSV import takes one file, got ${paths.length} (${excerptList(paths.map((f) => basename(f)), 3, 60)}): one file is one series, so import each on its own with its own --kind and --symbol (\`${cliCommand('import <file> --format csv --kind candles|mark|funding --symbol S --timeframe 1h --out DIR')}\`)`,
            );
          }
          // a CSV under a freqtrade data file's name (BTC_USDT_USDT-1h-futures.csv, a CSV copy of its feather file): the
          // name says the kind, the symbol and the timeframe, as it does for .feather and .json; a flag given says it instead
          const { freqtradeCsvName } = await import('../../feed/formats/freqtrade.js');
          const named = freqtradeCsvName(paths[0]!);
          if (named && (!kind || !flags.symbol)) {
            const { basename } = await import('node:path');
            // what the name says and what a flag said, each credited to its source
            const fromName = { kind: !kind, symbol: !flags.symbol, timeframe: !flags.timeframe };
            kind ??= named.kind;
            flags.symbol ??= named.symbol;
            if (kind !== 'funding') flags.timeframe ??= named.timeframe;
            else fromName.timeframe = false;
            const { KIND_WORDS } = await import('../../feed/ingest.js');
            const said = [fromName.symbol ? flags.symbol : '', fromName.timeframe ? flags.timeframe : '', fromName.kind ? KIND_WORDS[kind] : ''].filter(Boolean).join(' ');
            const given = [!fromName.symbol ? `--symbol ${flags.symbol}` : '', !fromName.kind ? `--kind ${kind}` : '', !fromName.timeframe && kind !== 'funding' && flags.timeframe ? `--timeframe ${flags.timeframe}` : ''].filter(Boolean).join(', ');
            process.stderr.write(`marginlab: ${basename(paths[0]!)}: ${said}, as the file name says${given ? ` (${given} as given)` : ''} (freqtrade's names; --kind, --symbol and --timeframe set them)\n`);
          }
          // every flag a CSV import lacks, at once (one per attempt took three tries)
          if (!kind || !flags.symbol) {
            const missing = [
              ...(kind ? [] : ['--kind (candles, mark or funding)']),
              ...(flags.symbol ? [] : ['--symbol (e.g. BTCUSDT)']),
            ];
            throw usageError(`a CSV import needs ${missing.join(', ')}: add ${missing.length === 1 ? 'it' : 'them'} (\`${cliCommand('import --help')}\`)`);
          }
          const { importCsv } = await import('../../feed/csv.js');
          const r = await importCsv({
            file: paths[0]!, kind, symbol: flags.symbol, timeframe: flags.timeframe, out: flags.out,
            venue: flags.venue, skipBadRows: !!flags.skipBadRows, delimiter: flags.delimiter ?? (TSV_FILE.test(paths[0]!) ? '\t' : ','), provenance: flags.provenance,
            replace: !!flags.replace, columns: flags.columns, header: flags.header,
          });
          out.interruptNote = COMMITTED(out.path);
          const s = (performance.now() - t0) / 1000;
          if (r.banner !== undefined) {
            const { excerpt } = await import('../../util/excerpt.js');
            process.stderr.write(`marginlab: line 1 is a title, not the header: left out (${excerpt(r.banner, 80)})\n`);
          }
          columnNotes(r.alsoNamed);
          if (r.zoneColumn !== undefined) process.stderr.write(`marginlab: times without a zone in column '${r.zoneColumn}' read in the zone its name gives\n`);
          if (r.inferredTimeframe) process.stderr.write(`marginlab: timeframe ${r.inferredTimeframe}, from the rows' spacing (--timeframe sets it)\n`);
          if (r.badRows > 0) {
            process.stderr.write(`skipped ${r.badRows} bad row${r.badRows === 1 ? '' : 's'}:\n`);
            for (const l of r.badRowLines) process.stderr.write(`  ${l}\n`);
          }
          await seriesWarnings(`${kind} ${flags.symbol} ${flags.timeframe ?? r.inferredTimeframe ?? ''}`, r, flags.timeframe ?? r.inferredTimeframe);
          if (kind === 'funding') await fundingWarnings([{ kind, symbol: flags.symbol, path: r.path }]);
          venueKept(flags.venue, r.manifest.venue, flags.out);
          const range = r.first !== null && r.last !== null ? `${new Date(r.first).toISOString()} → ${new Date(r.last).toISOString()}` : '';
          const grew = r.added !== r.rows ? `, ${r.added} new of ${r.rows} in all` : '';
          const { replacedText } = await import('../../feed/ingest.js');
          process.stdout.write(`imported ${r.rows === r.added ? r.rows : r.added} rows into ${visible(r.path)} (${range}${grew}${r.gaps ? `, ${r.gaps} gap${r.gaps === 1 ? '' : 's'}` : ''}${r.badRows ? `, ${r.badRows} bad rows skipped` : ''}${replacedText(r)}) in ${s.toFixed(1)} s${r.added === 0 ? '; nothing new: the dataset is unchanged' : ''}\n`);
          return;
        }
        let contractSize: number | undefined;
        if (flags.contractSize !== undefined) {
          contractSize = Number(flags.contractSize);
          if (!(contractSize > 0) || !Number.isFinite(contractSize)) throw usageError(`--contract-size: expected a positive number, got '${flags.contractSize}'`);
        }
        if (flags.timeframe !== undefined) {
          // one written form ('60m' is 1h), so the file names' timeframes compare with it
          const { canonicalTimeframe } = await import('../../feed/timeframe.js');
          flags.timeframe = canonicalTimeframe(flags.timeframe);
        }
        let series: import('../../feed/ingest.js').SeriesData[];
        if (fmt === 'parquet') {
          // one file is one series, as a CSV file: which symbol and kind it holds is the user's to say
          if (paths.length !== 1) throw usageError(`a Parquet import takes one file, got ${paths.length}: one file is one series, so import each on its own with its own --kind and --symbol (\`${cliCommand('import <file.parquet> --kind candles|mark|funding --symbol S --out DIR')}\`)`);
          if (!kind || !flags.symbol) {
            const missing = [...(kind ? [] : ['--kind (candles, mark or funding)']), ...(flags.symbol ? [] : ['--symbol (e.g. BTCUSDT)'])];
            throw usageError(`a Parquet import needs ${missing.join(', ')}: add ${missing.length === 1 ? 'it' : 'them'} (\`${cliCommand('import --help')}\`)`);
          }
          const { symbolProblem } = await import('../../feed/manifest.js');
          const { excerpt } = await import('../../util/excerpt.js');
          const bad = symbolProblem(flags.symbol);
          if (bad) throw usageError(`invalid --symbol '${excerpt(flags.symbol, 60)}': it ${bad}`);
          const { readParquet } = await import('../../feed/formats/parquet.js');
          const s = await readParquet(paths[0]!, { symbol: flags.symbol, kind, timeframe: flags.timeframe, columns: flags.columns });
          if (s.inferredTimeframe) process.stderr.write(`marginlab: timeframe ${s.inferredTimeframe}, from the rows' spacing (--timeframe sets it)\n`);
          columnNotes(s.alsoNamed);
          series = [s];
        } else series = readSources(fmt, paths, { symbol: flags.symbol, kind, timeframe: flags.timeframe, contractSize });
        const { excerptList } = await import('../../util/excerpt.js');
        // --timeframe names the candles' length; for funding (the interval the entry lists, checked against the events)
        // only in an import of funding alone (a folder of candles and funding takes it for the candles)
        const fundingOnly = series.every((s) => s.kind === 'funding');
        if (flags.timeframe) {
          for (const s of series) {
            if (s.kind !== 'funding' || fundingOnly) {
              s.timeframe = flags.timeframe;
              delete s.intervalFromEvents; // named by the user: held to it
            }
          }
        }
        const { commitSeriesYielding, replacedText } = await import('../../feed/ingest.js');
        const { basename } = await import('node:path');
        const prov = flags.provenance ?? `${fmt} import of ${paths.map((p) => basename(p)).join(', ')}`;
        const { VENUE_ID } = await import('../../feed/formats/venues.js');
        const venue = flags.venue ?? (fmt === 'bybit' || fmt === 'okx' ? VENUE_ID[fmt] : undefined);
        const results = await commitSeriesYielding(flags.out, series, { replace: !!flags.replace, venue, provenance: [prov] });
        // committed: a signal from here on ends the command with the import in place (it said "as it was before")
        out.interruptNote = COMMITTED(out.path);
        const s = (performance.now() - t0) / 1000;
        for (const r of results) {
          const range = r.first !== null && r.last !== null ? `${new Date(r.first).toISOString()} → ${new Date(r.last).toISOString()}` : 'empty';
          process.stdout.write(`${r.kind} ${r.symbol}${r.kind === 'funding' ? '' : ` ${r.timeframe}`}: ${r.added} new row${r.added === 1 ? '' : 's'}, ${r.rows} in ${visible(r.path)} (${range}${r.gaps ? `, ${r.gaps} gap${r.gaps === 1 ? '' : 's'}` : ''}${replacedText(r)})\n`);
        }
        for (const r of results) await seriesWarnings(`${r.kind} ${r.symbol} ${r.timeframe ?? ''}`, r, r.timeframe);
        await fundingWarnings(results);
        const { readManifest } = await import('../../feed/manifest.js');
        const addedRows = results.reduce((a, r) => a + r.added, 0);
        const written = readManifest(flags.out).manifest;
        process.stdout.write(`imported ${addedRows} new rows from ${fmt} data into ${results.length} series in ${s.toFixed(1)} s${addedRows === 0 ? ' (nothing new: the dataset is unchanged)' : ''}; the dataset's default timeframe is ${written.timeframe} (a config's data.timeframe chooses another)\n`);
        venueKept(flags.venue, written.venue, flags.out);
        // data files of the input folders this format does not read: said, never left out in silence
        const { isFreqtradeSpotFile, isFreqtradeMonthlyFile, FREQTRADE_SPOT_HINT } = await import('../../feed/formats/freqtrade.js');
        const { MONTHLY_CANDLES_HINT } = await import('../../feed/timeframe.js');
        const left = unreadFiles(fmt, paths);
        // files of the input folders the importer leaves out on purpose, each kind said once with why
        const leftOut = (files: string[], what: string, why: string): string[] => {
          if (files.length)
            process.stderr.write(`marginlab: warning: left out ${files.length} ${what} file${files.length === 1 ? '' : 's'} of the input folder${paths.length === 1 ? '' : 's'} (${excerptList(files.map((f) => basename(f)), 5, 60)}): ${why}\n`);
          return files;
        };
        // freqtrade's spot candles beside the futures files (the exchange folder given)
        const spot = leftOut(fmt === 'freqtrade' ? left.filter((f) => isFreqtradeSpotFile(f)) : [], 'spot candle', `${FREQTRADE_SPOT_HINT}; to import spot prices as a symbol's candles anyway, name the file with --kind candles`);
        // monthly candles (no fixed timeframe; a freqtrade -1M- file made the whole folder 65; a Binance -1mo- archive was
        // told to be imported as CSV with --timeframe 1h, a month as one 1h bar)
        const { isBinanceMonthlyFile, isBinanceIndexFile, BINANCE_INDEX_HINT } = await import('../../feed/formats/binance.js');
        const isMonthly = fmt === 'freqtrade' ? isFreqtradeMonthlyFile : fmt === 'binance' ? isBinanceMonthlyFile : null;
        const monthly = leftOut(isMonthly ? left.filter((f) => isMonthly(f)) : [], 'monthly candle', MONTHLY_CANDLES_HINT);
        // Binance's index and premium-index klines beside the klines (a mirror of data/futures/um given)
        const index = leftOut(fmt === 'binance' ? left.filter((f) => isBinanceIndexFile(f)) : [], 'index or premium-index klines', BINANCE_INDEX_HINT);
        let unread = left.filter((f) => !spot.includes(f) && !monthly.includes(f) && !index.includes(f));
        if (fmt === 'freqtrade' && unread.length) {
          // CSVs under freqtrade's names: a copy of a freqtrade file beside it (BTC_USDT_USDT-1h-futures.csv next to its .feather)
          // holds its rows, so it is only mentioned; one without such a file is imported by its name alone
          const { freqtradeCsvName } = await import('../../feed/formats/freqtrade.js');
          const { existsSync } = await import('node:fs');
          const stem = (f: string) => f.replace(/\.(?:csv|tsv)(?:\.gz)?$/i, '');
          const named = unread.filter((f) => freqtradeCsvName(f) !== null);
          const copies = named.filter((f) => ['.feather', '.json', '.json.gz'].some((ext) => existsSync(stem(f) + ext)));
          const own = named.filter((f) => !copies.includes(f));
          if (copies.length) {
            process.stderr.write(
              `marginlab: left out ${copies.length} CSV cop${copies.length === 1 ? 'y' : 'ies'} of the freqtrade files beside ${copies.length === 1 ? 'it' : 'them'} (${excerptList(copies.map((f) => basename(f)), 3, 60)}): the same rows as those files\n`,
            );
          }
          if (own.length) {
            process.stderr.write(
              `marginlab: warning: left out ${own.length} CSV file${own.length === 1 ? '' : 's'} under freqtrade's names without a .feather or .json beside ${own.length === 1 ? 'it' : 'them'} (${excerptList(own.map((f) => basename(f)), 3, 60)}): import ${own.length === 1 ? 'it' : 'each'} on its own (\`${cliCommand('import <file.csv> --out DIR')}\`: the name says its kind, symbol and timeframe)\n`,
            );
          }
          unread = unread.filter((f) => !named.includes(f));
        }
        if (unread.length) {
          process.stderr.write(
            `marginlab: warning: left out ${unread.length} file${unread.length === 1 ? '' : 's'} of the input folder${paths.length === 1 ? '' : 's'} that the ${fmt} importer does not read: ${excerptList(unread.map((f) => basename(f)), 5, 60)}; import ${unread.length === 1 ? 'it' : 'each'} on its own (\`${cliCommand('import <file> --format csv --kind candles|mark|funding --symbol S --timeframe 1h --out DIR')}\`) if it holds data you want\n`,
          );
        }
      } catch (err) {
        out.discard();
        // an errno error (an input that cannot be read, a dataset folder that cannot be written) is the user's, named with its path
        const { isInside } = await import('../../util/outdir.js');
        if (errnoOf(err)) {
          const at = (err as { path?: unknown }).path;
          if (typeof at === 'string' && !isInside(resolve(at), out.path)) throw fsError(err, { path: at, action: 'read the input', role: 'input' });
          // a rename names the file it could not replace (manifest.json), not the temp file
          const dest = (err as { dest?: unknown }).dest;
          throw fsError(err, { path: typeof dest === 'string' ? dest : typeof at === 'string' ? at : out.path, action: 'write the dataset', role: 'output', source: 'flag', resume: false });
        }
        throw err;
      } finally {
        out.release();
      }
    });
}
