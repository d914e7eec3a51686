/**
 * One-off conversion of the real Binance data in ../shared/data/real into bundled marginlab
 * datasets (data/binance-usdm-2025, data/xrp-2021). Run from the repo root:
 *   node --import tsx scripts/bundle-data.ts [sourceRoot]
 * The product never reads the source folder at run time; this script only produced data/.
 * Every dataset written is loaded back (full validation) before the script reports success.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDataset, type SeriesInput } from '../src/feed/write.js';
import { loadDataset } from '../src/feed/load.js';
import type { FileKind } from '../src/feed/manifest.js';

const src = process.argv[2] ?? '../shared/data/real';

function readCsv(path: string): { header: string[]; cols: Float64Array[] } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0]!.split(',');
  const cols = header.map(() => new Float64Array(lines.length - 1));
  for (let i = 1; i < lines.length; i++) {
    const parts = lines[i]!.split(',');
    if (parts.length !== header.length) throw new Error(`${path}:${i + 1}: ${parts.length} fields, expected ${header.length}`);
    for (let c = 0; c < header.length; c++) {
      const v = Number(parts[c]);
      if (parts[c] === '' || !Number.isFinite(v)) throw new Error(`${path}:${i + 1}: '${parts[c]}' is not a number`);
      cols[c]![i - 1] = v;
    }
  }
  return { header, cols };
}

function series(folder: string, base: string, symbol: string, kind: FileKind, tf: string, file: string): SeriesInput {
  const { header, cols } = readCsv(join(src, folder, `${base}-${file}.csv`));
  const col = (n: string) => {
    const i = header.indexOf(n);
    if (i < 0) throw new Error(`${file}: no column ${n}`);
    return cols[i]!;
  };
  const columns: Record<string, Float64Array> =
    kind === 'candles' ? { open: col('open'), high: col('high'), low: col('low'), close: col('close'), volume: col('volume') }
      : kind === 'mark' ? { open: col('open'), high: col('high'), low: col('low'), close: col('close') }
        : { rate: col('rate') };
  return { symbol, kind, timeframe: tf, time: col('timestamp'), columns };
}

const provenance2025 = 'Real Binance USDⓈ-M perpetual market data (BTC, ETH, XRP, ADA; 2025-05-22 → 2025-07-21) committed as freqtrade user_data by the public repository CARTEROO1/freqtrade-pivot-strategy @ 7c492f19e772d3a2180122141b980615e7d79233 (user_data/data/binance/futures/*.feather), converted via the shared CSV copies (15 significant digits). See README.md.';
const provenance2021 = 'Real Binance USDⓈ-M XRP/USDT:USDT perpetual data (Nov–Dec 2021): freqtrade\'s unit-test fixtures, freqtrade/freqtrade tests/testdata/futures/*.feather @ c9ae5e1e9ff25bb55dd61f5e5519f7c479291edb, converted via the shared CSV copies. See README.md.';

async function main(): Promise<void> {
  const usdm: SeriesInput[] = [];
  for (const coin of ['BTC', 'ETH', 'XRP', 'ADA']) {
    const base = `${coin}_USDT_USDT`;
    const sym = `${coin}USDT`;
    usdm.push(series('binance-usdm-2025', base, sym, 'candles', '1h', '1h-futures'));
    usdm.push(series('binance-usdm-2025', base, sym, 'candles', '30m', '30m-futures'));
    usdm.push(series('binance-usdm-2025', base, sym, 'candles', '1d', '1d-futures'));
    usdm.push(series('binance-usdm-2025', base, sym, 'mark', '8h', '8h-mark'));
    usdm.push(series('binance-usdm-2025', base, sym, 'funding', '8h', '8h-funding_rate'));
  }
  await writeDataset('data/binance-usdm-2025', { venue: 'binance-usdm', timeframe: '1h', provenance: provenance2025, series: usdm });

  const xrp: SeriesInput[] = [
    series('freqtrade-testdata', 'XRP_USDT_USDT', 'XRPUSDT', 'candles', '1h', '1h-futures'),
    series('freqtrade-testdata', 'XRP_USDT_USDT', 'XRPUSDT', 'candles', '5m', '5m-futures'),
    series('freqtrade-testdata', 'XRP_USDT_USDT', 'XRPUSDT', 'mark', '1h', '1h-mark'),
    series('freqtrade-testdata', 'XRP_USDT_USDT', 'XRPUSDT', 'mark', '8h', '8h-mark'),
    series('freqtrade-testdata', 'XRP_USDT_USDT', 'XRPUSDT', 'funding', '8h', '8h-funding_rate'),
  ];
  await writeDataset('data/xrp-2021', { venue: 'binance-usdm', timeframe: '1h', provenance: provenance2021, series: xrp });

  for (const [dir, tfs] of [['data/binance-usdm-2025', ['1h', '30m', '1d']], ['data/xrp-2021', ['1h', '5m']]] as const) {
    for (const tf of tfs) {
      const md = await loadDataset(dir, { timeframe: tf });
      console.log(`${dir} ${tf}: ${md.time.length} bars × ${md.symbols.length} symbols, funding events ${md.columns.map((c) => c.fundingTime.length).join('/')}`);
    }
  }
}

await main();
