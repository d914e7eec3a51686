/**
 * Builds test/fixtures/import from the real market data in ../shared/data/real (run once; the
 * product and the tests never read ../shared). Usage:
 *   node --import tsx scripts/make-import-fixtures.ts /path/to/shared/data/real
 * freqtrade: the real feather files are copied as they are (LZ4-compressed, as freqtrade writes
 * them) and re-encoded, values unchanged, uncompressed and ZSTD-compressed (ZSTD through the
 * `zstd` command, only needed here). Binance, Bybit, OKX: the real candles, mark candles and
 * funding rates are laid out as each venue publishes them; columns marginlab does not import
 * (close_time, quote volume, trade count, taker volumes, turnover) are derived from the real values.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { CompressionType, RecordBatchFileWriter, compressionRegistry } from 'apache-arrow';
import { readArrowTable } from '../src/feed/formats/feather.js';
import { writeZip } from '../src/feed/formats/zip.js';

const real = resolve(process.argv[2] ?? '../shared/data/real');
const out = resolve('test/fixtures/import');
rmSync(out, { recursive: true, force: true });

// --- freqtrade
const ft = join(out, 'freqtrade', 'binance', 'futures');
mkdirSync(ft, { recursive: true });
for (const f of ['XRP_USDT_USDT-1h-futures.feather', 'XRP_USDT_USDT-1h-mark.feather', 'XRP_USDT_USDT-8h-funding_rate.feather', 'XRP_USDT_USDT-1h-futures.json.gz']) {
  copyFileSync(join(real, 'freqtrade-testdata', f), join(ft, f));
}
const table = readArrowTable(readFileSync(join(real, 'freqtrade-testdata', 'XRP_USDT_USDT-5m-futures.feather')), '5m');
compressionRegistry.set(CompressionType.ZSTD, {
  ...compressionRegistry.get(CompressionType.ZSTD),
  encode: (b: Uint8Array) => new Uint8Array(execFileSync('zstd', ['-q', '-c', '-19'], { input: b })),
});
for (const [dir, ct] of [['plain', null], ['zstd', CompressionType.ZSTD]] as const) {
  mkdirSync(join(out, 'freqtrade', dir), { recursive: true });
  const bytes = RecordBatchFileWriter.writeAll(table, { compressionType: ct }).toUint8Array(true);
  writeFileSync(join(out, 'freqtrade', dir, 'XRP_USDT_USDT-5m-futures.feather'), bytes);
}
mkdirSync(join(out, 'freqtrade', 'lz4'), { recursive: true });
copyFileSync(join(real, 'freqtrade-testdata', 'XRP_USDT_USDT-5m-futures.feather'), join(out, 'freqtrade', 'lz4', 'XRP_USDT_USDT-5m-futures.feather'));

// --- real CSV series
const csv = (p: string) => readFileSync(p, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const btc1h = csv(join(real, 'binance-usdm-2025', 'BTC_USDT_USDT-1h-futures.csv'));
const btcMark = csv(join(real, 'binance-usdm-2025', 'BTC_USDT_USDT-8h-mark.csv'));
const btcFund = csv(join(real, 'binance-usdm-2025', 'BTC_USDT_USDT-8h-funding_rate.csv'));
const eth1h = csv(join(real, 'binance-usdm-2025', 'ETH_USDT_USDT-1h-futures.csv'));
const ethFund = csv(join(real, 'binance-usdm-2025', 'ETH_USDT_USDT-8h-funding_rate.csv'));
const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const month = (t: number) => new Date(t).toISOString().slice(0, 7);
const H = 3_600_000;

// --- Binance public data (data.binance.vision layout)
const KHEAD = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
const kline = (r: number[], tf: number, us = false, mark = false) => {
  const [t, o, h, l, c, v = 0] = r as [number, number, number, number, number, number?];
  const vol = mark ? 0 : v;
  const q = mark ? 0 : +(vol * (o + c) / 2).toFixed(4);
  const k = us ? 1000 : 1;
  return [t * k, o, h, l, c, vol, (t + tf - 1) * k, q, mark ? 0 : Math.max(1, Math.round(vol * 3)), +(vol / 2).toFixed(3), +(q / 2).toFixed(4), 0].join(',');
};
const bin = join(out, 'binance');
const put = (rel: string, data: Buffer | string) => { mkdirSync(join(bin, rel, '..'), { recursive: true }); writeFileSync(join(bin, rel), data); };
const zipOne = (name: string, text: string) => writeZip([{ name, data: Buffer.from(text) }], (b) => deflateRawSync(b));
// June monthly klines: with header, ms; zipped with the `zip` command (as a standard archiver writes it)
const june = btc1h.filter((r) => month(r[0]!) === '2025-06');
const tmpCsv = join(out, 'BTCUSDT-1h-2025-06.csv');
writeFileSync(tmpCsv, `${KHEAD}\n${june.map((r) => kline(r, H)).join('\n')}\n`);
mkdirSync(join(bin, 'klines'), { recursive: true });
execFileSync('zip', ['-q', '-j', '-X', join(bin, 'klines', 'BTCUSDT-1h-2025-06.zip'), tmpCsv]);
rmSync(tmpCsv);
// May (from 22nd) as an old-style headerless CSV
put('klines/BTCUSDT-1h-2025-05.csv', `${btc1h.filter((r) => month(r[0]!) === '2025-05').map((r) => kline(r, H)).join('\n')}\n`);
// July 1-3 daily archives, times in microseconds
for (const d of ['2025-07-01', '2025-07-02', '2025-07-03']) {
  put(`klines/BTCUSDT-1h-${d}.zip`, zipOne(`BTCUSDT-1h-${d}.csv`, `${KHEAD}\n${btc1h.filter((r) => day(r[0]!) === d).map((r) => kline(r, H, true)).join('\n')}\n`));
}
put('markPriceKlines/BTCUSDT-8h-2025-06.zip', zipOne('BTCUSDT-8h-2025-06.csv', `${KHEAD}\n${btcMark.filter((r) => month(r[0]!) === '2025-06').map((r) => kline(r, 8 * H, false, true)).join('\n')}\n`));
put('fundingRate/BTCUSDT-fundingRate-2025-06.zip', zipOne('BTCUSDT-fundingRate-2025-06.csv', `calc_time,funding_interval_hours,last_funding_rate\n${btcFund.filter((r) => month(r[0]!) === '2025-06').map((r) => `${r[0]},8,${r[1]}`).join('\n')}\n`));
// the raw monthly CSVs the download test serves (klines June+July-to-21st, mark, funding), ms, with header
put('series/BTCUSDT-1h.csv', `${KHEAD}\n${btc1h.map((r) => kline(r, H)).join('\n')}\n`);
put('series/BTCUSDT-8h-mark.csv', `${KHEAD}\n${btcMark.map((r) => kline(r, 8 * H, false, true)).join('\n')}\n`);
put('series/BTCUSDT-fundingRate.csv', `calc_time,funding_interval_hours,last_funding_rate\n${btcFund.map((r) => `${r[0]},8,${r[1]}`).join('\n')}\n`);

// --- Bybit v5 answers (newest first) and CSV with the API's field names
const byb = join(out, 'bybit');
mkdirSync(byb, { recursive: true });
const eth3d = eth1h.filter((r) => r[0]! >= Date.UTC(2025, 5, 1) && r[0]! < Date.UTC(2025, 5, 4));
const newest = <T>(a: T[]) => [...a].reverse();
writeFileSync(join(byb, 'ETHUSDT-kline-60.json'), JSON.stringify({
  retCode: 0, retMsg: 'OK',
  result: { category: 'linear', symbol: 'ETHUSDT', list: newest(eth3d).map((r) => [String(r[0]), String(r[1]), String(r[2]), String(r[3]), String(r[4]), String(r[5]), (r[5]! * (r[1]! + r[4]!) / 2).toFixed(4)]) },
  retExtInfo: {}, time: Date.UTC(2025, 5, 4),
}));
writeFileSync(join(byb, 'ETHUSDT-kline-60.csv'), `startTime,openPrice,highPrice,lowPrice,closePrice,volume,turnover\n${newest(eth3d).map((r) => `${r[0]},${r[1]},${r[2]},${r[3]},${r[4]},${r[5]},${(r[5]! * (r[1]! + r[4]!) / 2).toFixed(4)}`).join('\n')}\n`);
const ethF = ethFund.filter((r) => month(r[0]!) === '2025-06');
writeFileSync(join(byb, 'ETHUSDT-funding.csv'), `symbol,fundingRate,fundingRateTimestamp\n${newest(ethF).map((r) => `ETHUSDT,${r[1]},${r[0]}`).join('\n')}\n`);

// --- OKX v5 answers: vol in contracts (ETH-USDT-SWAP ctVal 0.1), volCcy in ETH; the newest candle still forming (confirm 0)
const okx = join(out, 'okx');
mkdirSync(okx, { recursive: true });
const okxRows = newest(eth3d).map((r, i) => [String(r[0]), String(r[1]), String(r[2]), String(r[3]), String(r[4]), (r[5]! * 10).toFixed(2), String(r[5]), (r[5]! * r[4]!).toFixed(2), i === 0 ? '0' : '1']);
writeFileSync(join(okx, 'ETH-USDT-SWAP-1H.json'), JSON.stringify({ code: '0', msg: '', data: okxRows }));
writeFileSync(join(okx, 'ETH-USDT-SWAP-funding.json'), JSON.stringify({ code: '0', msg: '', data: newest(ethF).map((r) => ({ formulaType: 'withRate', fundingRate: String(r[1]), fundingTime: String(r[0]), instId: 'ETH-USDT-SWAP', instType: 'SWAP', method: 'current_period', realizedRate: String(r[1]) })) }));
console.log(`wrote ${out}`);
