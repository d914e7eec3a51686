/**
 * `marginlab import csv <file> --kind candles|mark|funding --symbol S --timeframe TF --out <dataset>`:
 * stream a CSV into a dataset folder (docs/data-format.md). Exit codes: 0 ok · 64 bad flags ·
 * 65 bad rows / missing columns / empty file (nothing written) · 66 file not found.
 */
import type { Command } from 'commander';
import { usageError } from '../../errors.js';

export function register(program: Command): void {
  const imp = program.command('import').description('import market data into a dataset folder');
  imp
    .command('csv <file>')
    .description('stream a CSV of candles, mark candles or funding into Arrow IPC and create/update the manifest')
    .requiredOption('--kind <kind>', 'candles | mark | funding')
    .requiredOption('--symbol <symbol>', 'symbol, e.g. BTCUSDT')
    .option('--timeframe <tf>', 'candle timeframe (required for candles and mark), e.g. 1h')
    .requiredOption('--out <dataset>', 'dataset folder (created if missing)')
    .option('--venue <id>', 'venue written when the manifest is created', 'binance-usdm')
    .option('--skip-bad-rows', 'leave bad rows out (reported and counted) instead of failing')
    .option('--delimiter <c>', 'field delimiter', ',')
    .option('--provenance <text>', 'provenance line added to the manifest')
    .action(async (file: string, flags: { kind: string; symbol: string; timeframe?: string; out: string; venue: string; skipBadRows?: boolean; delimiter: string; provenance?: string }) => {
      if (flags.kind !== 'candles' && flags.kind !== 'mark' && flags.kind !== 'funding') {
        throw usageError(`--kind: expected candles, mark or funding, got '${flags.kind}'`);
      }
      const { importCsv } = await import('../../feed/csv.js');
      const t0 = performance.now();
      const r = await importCsv({
        file, kind: flags.kind, symbol: flags.symbol, timeframe: flags.timeframe, out: flags.out,
        venue: flags.venue, skipBadRows: !!flags.skipBadRows, delimiter: flags.delimiter, provenance: flags.provenance,
      });
      const s = (performance.now() - t0) / 1000;
      if (r.badRows > 0) {
        process.stderr.write(`skipped ${r.badRows} bad row${r.badRows === 1 ? '' : 's'}:\n`);
        for (const l of r.badRowLines) process.stderr.write(`  ${l}\n`);
        if (r.badRows > r.badRowLines.length) process.stderr.write(`  ... and ${r.badRows - r.badRowLines.length} more\n`);
      }
      const range = r.first !== null && r.last !== null ? `${new Date(r.first).toISOString()} → ${new Date(r.last).toISOString()}` : '';
      process.stdout.write(`imported ${r.rows} rows into ${r.path} (${range}${r.gaps ? `, ${r.gaps} gap${r.gaps === 1 ? '' : 's'}` : ''}${r.badRows ? `, ${r.badRows} bad rows skipped` : ''}) in ${s.toFixed(1)} s\n`);
    });
}
