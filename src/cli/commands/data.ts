/**
 * `marginlab data inspect|validate|synth`: look into, check and generate datasets (docs/data.md).
 * Exit codes: 0 ok · 64 bad flags · 65 bad data · 66 missing dataset · 130 interrupted (src/util/interrupt.ts: temp files and lock removed).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { configError, usageError, UserError } from '../../errors.js';
import { grouped, visible } from '../../util/excerpt.js';

const int = (name: string, v: string, min: number): number => {
  const s = v.replace(/_/g, '');
  if (!/^\d+$/.test(s) || Number(s) < min || !Number.isSafeInteger(Number(s))) throw usageError(`--${name}: expected an integer ≥ ${min}, got '${v}'`);
  return Number(s);
};
const num = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw usageError(`--${name}: expected a number, got '${v}'`);
  return x;
};

export function register(program: Command): void {
  const data = program.command('data').description('inspect, validate and generate datasets');

  data
    .command('inspect <dataset>')
    .description('per file: rows, time range, gaps, price range, funding count and mean rate; lists validation problems (exit 65 if any; 66 if a listed file is missing)')
    .option('--json', 'print the summary as JSON')
    .option('--gaps <policy>', 'error (a gap is a problem, as in a backtest) | warn (gaps listed only)', 'error')
    .action(async (dataset: string, flags: { json?: boolean; gaps: string }) => {
      if (flags.gaps !== 'error' && flags.gaps !== 'warn') throw usageError(`--gaps: expected error or warn, got '${flags.gaps}'`);
      const { inspectDataset, formatSummary } = await import('../../feed/inspect.js');
      const s = inspectDataset(resolve(dataset), { gaps: flags.gaps });
      process.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s)}\n`);
      // a listed file that does not exist is missing input (66), as for data validate and a backtest's load
      if (s.missingFiles.length > 0) process.exitCode = 66;
      else if (s.problemCount > 0) process.exitCode = 65;
    });

  data
    .command('validate <dataset>')
    .description('load the dataset exactly as a backtest would (full validation); exit 65 with every problem listed (66 if a listed file is missing)')
    .option('--timeframe <tf>', 'candle timeframe (default: the manifest default)')
    .option('--symbols <list>', 'comma-separated subset of symbols')
    .option('--gaps <policy>', 'error | warn', 'error')
    .action(async (dataset: string, flags: { timeframe?: string; symbols?: string; gaps: string }) => {
      if (flags.gaps !== 'error' && flags.gaps !== 'warn') throw usageError(`--gaps: expected error or warn, got '${flags.gaps}'`);
      const symbols = flags.symbols === undefined ? undefined : flags.symbols.split(',').map((s) => s.trim()).filter(Boolean);
      if (symbols !== undefined && symbols.length === 0) throw usageError(`--symbols '${visible(flags.symbols!)}' names no symbol: give comma-separated names (e.g. --symbols BTCUSDT,ETHUSDT), or leave it out for all`);
      const { loadDataset } = await import('../../feed/load.js');
      const t0 = performance.now();
      let md: Awaited<ReturnType<typeof loadDataset>>;
      try {
        md = await loadDataset(resolve(dataset), { timeframe: flags.timeframe, symbols, gaps: flags.gaps });
      } catch (e) {
        // the symbols or the timeframe the flags asked for and the dataset lacks (78, docs/data.md): the message names the flag,
        // not the config key data.symbols this command has none of
        const flag = e instanceof UserError ? (e.reason === 'datasetSymbols' ? '--symbols' : e.reason === 'datasetTimeframe' ? '--timeframe' : null) : null;
        if (flag !== null) throw configError(`${flag}: ${(e as Error).message.replace(/^data\.symbols for /, '')}`);
        throw e;
      }
      const ms = performance.now() - t0;
      for (const w of md.warnings ?? []) process.stderr.write(`marginlab: warning: ${w}\n`);
      const n = md.time.length;
      process.stdout.write(
        `ok: ${visible(md.dataset)} ${md.timeframe}: ${n} bars × ${md.symbols.length} symbol${md.symbols.length === 1 ? '' : 's'} (${md.symbols.join(', ')}), ` +
        `${new Date(md.time[0]!).toISOString()} → ${new Date(md.time[n - 1]!).toISOString()}, ` +
        `mark at bar timeframe: ${md.columns.filter((c) => c.markAtBarTimeframe).length}/${md.symbols.length}, ` +
        `funding events: ${md.columns.reduce((a, c) => a + c.fundingTime.length, 0)}; loaded in ${ms.toFixed(0)} ms\n`,
      );
    });

  data
    .command('download <venue>')
    .description('download public archives (binance-usdm: data.binance.vision) with checksums, resumably, and import them into a dataset')
    .requiredOption('--symbols <list>', 'comma-separated symbols, e.g. BTCUSDT,ETHUSDT')
    .requiredOption('--from <YYYY-MM>', 'first month')
    .requiredOption('--to <YYYY-MM>', 'last month (the current month: daily archives up to yesterday)')
    .option('--timeframe <tf>', 'candle timeframe of the klines and mark archives', '1h')
    .option('--kinds <list>', 'candles, mark, funding (comma-separated)', 'candles,mark,funding')
    .option('--out <dir>', 'dataset folder (default data/<venue>-<from>-<to>-<tf>)')
    .option('--base-url <url>', 'archive server', 'https://data.binance.vision')
    .option('--cache <dir>', 'folder of verified archives (default <out>/.download-cache)')
    .option('--retries <n>', 'retries per request, with exponential backoff from 1 s', '4')
    .option('--allow-missing', 'import around archives that are not published (404) instead of failing')
    .option('--replace', 'replace the dataset\'s series instead of appending')
    .action(async (venue: string, flags: { symbols: string; from: string; to: string; timeframe: string; kinds: string; out?: string; baseUrl: string; cache?: string; retries: string; allowMissing?: boolean; replace?: boolean }) => {
      if (venue !== 'binance-usdm') throw usageError(`data download: only binance-usdm is supported, got '${venue}'`);
      const kinds = flags.kinds.split(',').map((k) => k.trim()).filter(Boolean);
      for (const k of kinds) if (k !== 'candles' && k !== 'mark' && k !== 'funding') throw usageError(`--kinds: expected candles, mark or funding, got '${k}'`);
      const { downloadBinanceUsdm, binanceInterval } = await import('../../feed/download.js');
      // one spelling (60m is 1h) in the default --out as in the archives' paths
      const tf = binanceInterval(flags.timeframe, kinds as ('candles' | 'mark' | 'funding')[]);
      const tty = !!process.stderr.isTTY;
      let bar: { start: (t: number, v: number) => void; update: (v: number, p?: object) => void; stop: () => void } | null = null;
      if (tty) {
        const { default: cliProgress } = await import('cli-progress');
        bar = new cliProgress.SingleBar({ format: '  {bar} {value}/{total} archives  {file}', hideCursor: true }, cliProgress.Presets.shades_classic);
      }
      const t0 = performance.now();
      const out = resolve(flags.out ?? `data/${venue}-${flags.from}-${flags.to}-${tf}`);
      let started = false;
      // the dataset folder through the output-folder rules (src/util/outdir.ts): locked while written; an existing dataset or a resumed download is fine
      const { openOutDir } = await import('../../util/outdir.js');
      const lock = openOutDir(out, { kind: 'dataset', name: '--out', accept: (_dir, entries) => entries.includes('manifest.json') || entries.every((e) => e === '.download-cache'), forceFlag: false });
      lock.interruptNote = `the dataset ${out} is as it was before; the verified archives downloaded so far are kept in the cache (run the command again to resume)`;
      try {
        const r = await downloadBinanceUsdm({
          symbols: flags.symbols.split(',').map((s) => s.trim()).filter(Boolean), from: flags.from, to: flags.to,
          timeframe: flags.timeframe, kinds: kinds as ('candles' | 'mark' | 'funding')[], out, baseUrl: flags.baseUrl,
          cacheDir: flags.cache, retries: int('retries', flags.retries, 0), allowMissing: !!flags.allowMissing, replace: !!flags.replace,
          onProgress: (p) => {
            if (bar) { if (!started) { bar.start(p.total, 0); started = true; } bar.update(p.done, { file: p.path.split('/').pop() }); }
            else process.stderr.write(`[${p.done}/${p.total}] ${p.status} ${p.path}\n`);
          },
          onRetry: (line) => { if (!bar) process.stderr.write(`marginlab: note: ${line}\n`); },
        });
        bar?.stop();
        for (const m of r.missing) process.stderr.write(`marginlab: warning: not published: ${m}\n`);
        for (const p of r.pending) process.stderr.write(`marginlab: note: not yet published: ${p}\n`);
        // the import's own report (src/cli/commands/import.ts): gaps, the rows --replace replaced, funding no venue would publish
        const { replacedText } = await import('../../feed/ingest.js');
        const { seriesWarnings, fundingWarnings } = await import('./import.js');
        for (const s of r.results) process.stdout.write(`${s.kind} ${s.symbol}${s.kind === 'funding' ? '' : ` ${s.timeframe}`}: ${s.added} new rows, ${s.rows} in ${visible(s.path)}${s.gaps ? ` (${s.gaps} gap${s.gaps === 1 ? '' : 's'})` : ''}${replacedText(s)}\n`);
        for (const s of r.results) await seriesWarnings(`${s.kind} ${s.symbol} ${s.timeframe ?? ''}`, s, s.timeframe, 'download');
        await fundingWarnings(r.results);
        process.stdout.write(`${r.archives} archives (${r.downloaded} downloaded, ${r.cached} from the cache, ${r.missing.length} missing) into ${visible(out)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (err) {
        bar?.stop();
        lock.discard();
        throw err;
      } finally {
        lock.release();
      }
    });

  data
    .command('synth')
    .description('write a synthetic dataset of N correlated perpetuals (deterministic: same seed, same bytes)')
    .requiredOption('--symbols <n>', 'number of symbols')
    .requiredOption('--bars <n>', 'bars per symbol')
    .option('--timeframe <tf>', 'bar timeframe', '1m')
    .option('--seed <s>', 'random seed (integer)', '1')
    .option('--out <dir>', 'dataset folder (default data/synth-<symbols>x<bars>-<tf>-s<seed>)')
    .option('--start <date>', 'first bar open (ISO date or ms UTC)', '2024-01-01T00:00:00Z')
    .option('--vol <list>', 'annualised volatility per symbol, comma-separated (cycled), e.g. 0.5,0.8')
    .option('--correlation <rho>', 'pairwise correlation through the market factor', '0.6')
    .option('--drift <mu>', 'annualised drift', '0')
    .option('--crashes-per-year <x>', 'market-wide crashes per year', '2')
    .option('--crash-size <f>', 'mean crash drop (fraction, beta 1)', '0.1')
    .option('--wicks-per-year <x>', 'single-symbol wicks per symbol per year', '12')
    .option('--wick-size <f>', 'mean wick depth (fraction)', '0.05')
    .option('--basis-bps <b>', 'stationary sd of the mark-trade basis (bps)', '5')
    .option('--funding-mean <r>', 'long-run funding rate per 8 h', '0.0001')
    .option('--no-mark', 'do not write mark candles')
    .option('--quiet', 'no progress output')
    .option('--force', 'write into a non-empty folder marginlab did not make (only files of the names written are replaced)')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const symbols = int('symbols', String(flags.symbols), 1);
      const bars = int('bars', String(flags.bars), 2);
      const seedStr = String(flags.seed);
      if (!/^-?\d+$/.test(seedStr) || !Number.isSafeInteger(Number(seedStr))) throw usageError(`--seed: expected an integer, got '${seedStr}'`);
      const seed = Number(seedStr);
      const tf = String(flags.timeframe);
      const startStr = String(flags.start);
      const { parseDate, dateHint } = await import('../../util/time.js');
      const start = parseDate(startStr);
      if (start === null) throw usageError(`--start: expected an ISO date or ms UTC, got '${startStr}'${dateHint(startStr)}`);
      const vols = typeof flags.vol === 'string' ? flags.vol.split(',').map((v) => num('vol', v)!) : undefined;
      const out = resolve(typeof flags.out === 'string' ? flags.out : `data/synth-${symbols}x${bars}-${tf}-s${seed}`);
      const { synthesize } = await import('../../feed/synth.js');
      const t0 = performance.now();
      const quiet = !!flags.quiet || !process.stderr.isTTY;
      const { errnoOf, fsError } = await import('../../util/fs-errors.js');
      // a full disk or a file-size limit while writing is said as such (70, not an internal error); a
      // place that cannot be written is 64 (the temp folder is gone, nothing is left half-written)
      const m = await synthesize({
        out, symbols, bars, timeframe: tf, seed, start, vols,
        correlation: num('correlation', flags.correlation as string),
        drift: num('drift', flags.drift as string),
        crashesPerYear: num('crashes-per-year', flags.crashesPerYear as string),
        crashSize: num('crash-size', flags.crashSize as string),
        wicksPerYear: num('wicks-per-year', flags.wicksPerYear as string),
        wickSize: num('wick-size', flags.wickSize as string),
        basisBps: num('basis-bps', flags.basisBps as string),
        fundingMean: num('funding-mean', flags.fundingMean as string),
        mark: flags.mark !== false,
        force: flags.force === true,
        onProgress: quiet ? undefined : (done) => process.stderr.write(`\r  ${grouped(done)} / ${grouped(bars)} bars`),
      }, 'cli').catch((err: unknown) => {
        throw errnoOf(err) ? fsError(err, { path: out, action: 'write the dataset', role: 'output', source: 'flag', resume: false }) : err;
      });
      if (!quiet) process.stderr.write('\n');
      const s = (performance.now() - t0) / 1000;
      process.stdout.write(`wrote ${visible(out)}: ${m.symbols.length} symbol${m.symbols.length === 1 ? '' : 's'} (${m.symbols.join(', ')}) × ${bars} ${tf} bars, ${m.files.length} files in ${s.toFixed(1)} s\n`);
    });
}
