/**
 * The flags of `data inspect`, `data validate` and `data synth` (docs/data.md, "Commands"): each one
 * reaches the function it maps to, and bad values are usage errors (64). Run in-process through the
 * command modules (test/fixtures/feed/cli.ts); one subprocess run checks the real binary's exit code
 * and the default --out folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// unchecked: these tests build datasets the loader must refuse (writeDataset checks what it writes)
import { writeDatasetUnchecked as writeDataset, type SeriesInput } from '../src/feed/write.js';
import { feedCli } from './fixtures/feed/cli.js';
import { runCli } from './fixtures/run/cli.js';
import { SAMPLE_DATA } from '../src/util/package-root.js';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const root = mkdtempSync(join(tmpdir(), 'ml-feed-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function candles(symbol: string, n: number, tfMs: number, tf: string, mutate?: (c: Record<'time' | 'open' | 'high' | 'low' | 'close' | 'volume', number[]>) => void): SeriesInput {
  const c = { time: [] as number[], open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[] };
  for (let i = 0; i < n; i++) {
    c.time.push(T0 + i * tfMs); c.open.push(100 + i); c.high.push(102 + i); c.low.push(99 + i); c.close.push(101 + i); c.volume.push(5);
  }
  mutate?.(c);
  return { symbol, kind: 'candles', timeframe: tf, time: c.time, columns: { open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume } };
}
const funding: SeriesInput = { symbol: 'BTCUSDT', kind: 'funding', time: [T0, T0 + 8 * H], columns: { rate: [0.0001, 0.0003] } };

const clean = join(root, 'clean');
const flawed = join(root, 'flawed');
beforeAll(async () => {
  await writeDataset(clean, {
    venue: 'v', timeframe: '1h', provenance: 'first line\nsecond line',
    series: [candles('BTCUSDT', 6, H, '1h'), candles('BTCUSDT', 12, H / 2, '30m'), candles('ETHUSDT', 6, H, '1h'), candles('ETHUSDT', 12, H / 2, '30m'), funding],
  });
  // ETH: a gap of 2 bars after row 3 (a problem under the default gap policy, listed only under --gaps warn) and a negative volume at row 2 (a problem)
  await writeDataset(flawed, {
    venue: 'v', timeframe: '1h',
    series: [candles('BTCUSDT', 6, H, '1h'), candles('ETHUSDT', 6, H, '1h', (c) => { for (let i = 3; i < 6; i++) c.time[i]! += 2 * H; c.volume[1] = -1; })],
  });
});

describe('gaps refused by the loader', () => {
  // the gap policy's hint was on every gap line: 145 gaps printed it 145 times
  it('say where the gap policy is set once, on the first gap (data validate, data inspect)', async () => {
    const many = join(root, 'many-gaps');
    // every third bar missing: 9 gaps
    await writeDataset(many, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 20, H, '1h', (c) => { for (let i = 0; i < c.time.length; i++) c.time[i] = T0 + Math.floor((i * 3) / 2) * H; })] });
    const hint = "(gaps are errors: data.gaps: 'warn' in the config, --gaps warn of data validate and data inspect, or loadDataset's { gaps: 'warn' } loads the data with them (nothing is filled in: a bar no symbol has is left out of the timeline))";
    const [validate, inspect] = await Promise.all([feedCli(['data', 'validate', many]), feedCli(['data', 'inspect', many])]);
    expect(validate.code).toBe(65);
    const gapLines = validate.stderr.split('\n').filter((l) => l.includes(': gap of '));
    expect(gapLines.length).toBeGreaterThan(5);
    expect(gapLines[0]!.endsWith(hint)).toBe(true);
    expect(validate.stderr.split(hint).length - 1).toBe(1);
    expect(inspect.code).toBe(65);
    expect(inspect.stdout.split(hint).length - 1).toBe(1);
  });
});

describe('data inspect', () => {
  it('prints a per-file table and "validation: ok" for a clean dataset (exit 0)', async () => {
    const r = await feedCli(['data', 'inspect', clean]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`dataset clean (${clean})`);
    expect(lines[1]).toBe('venue v · default timeframe 1h · symbols BTCUSDT, ETHUSDT');
    expect(lines[2]).toBe('provenance: first line (…)');
    expect(r.stdout).toMatch(/^BTCUSDT {2}candles {2}1h {6}6 {2}2025-01-01T00:00:00\.000Z {2}2025-01-01T05:00:00\.000Z +0 +99 +107 +- +-$/m);
    expect(r.stdout).toMatch(/^BTCUSDT {2}funding {2}8h +2 .* +2 {2}0\.02000 %$/m);
    expect(r.stdout).not.toContain('gaps:');
    expect(r.stdout.trimEnd().endsWith('validation: ok (no problems)')).toBe(true);
  });

  it('a folder or manifest text holding control characters is shown escaped (an ESC recoloured the terminal, a line break forged a line)', async () => {
    const odd = join(root, 'odd\u001b[31mname');
    await writeDataset(odd, { venue: 'v\u202eX', timeframe: '1h', provenance: 'from\u001b[2Jhere', series: [candles('BTCUSDT', 6, H, '1h')] });
    const r = await feedCli(['data', 'inspect', odd]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`dataset odd\\x1b[31mname (${root}/odd\\x1b[31mname)`);
    expect(lines[1]).toBe('venue v\\u202eX · default timeframe 1h · symbols BTCUSDT');
    expect(lines[2]).toBe('provenance: from\\x1b[2Jhere');
    expect(r.stdout).not.toMatch(/[\u001b\u202e]/);
    const v = await feedCli(['data', 'validate', odd]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^ok: odd\\x1b\[31mname 1h: /);
  });

  it('--json prints the summary as JSON', async () => {
    const r = await feedCli(['data', 'inspect', clean, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ name: 'clean', venue: 'v', timeframe: '1h', symbols: ['BTCUSDT', 'ETHUSDT'], problems: [], problemCount: 0 });
    expect(s.files.map((f: { path: string }) => f.path)).toEqual([
      'BTCUSDT-candles-30m.arrow', 'BTCUSDT-candles-1h.arrow', 'BTCUSDT-funding.arrow', 'ETHUSDT-candles-30m.arrow', 'ETHUSDT-candles-1h.arrow',
    ]);
    const f = s.files.find((x: { kind: string }) => x.kind === 'funding');
    expect(f).toMatchObject({ rows: 2, fundingCount: 2, timeframe: '8h', priceMin: null });
    expect(f.fundingMeanRate).toBeCloseTo(0.0002, 12);
  });

  it('lists gaps and every validation problem, and exits 65 when there is one (also as JSON)', async () => {
    const [text, json] = await Promise.all([feedCli(['data', 'inspect', flawed]), feedCli(['data', 'inspect', flawed, '--json'])]);
    expect(text.code).toBe(65);
    expect(text.stdout).toMatch(/^ETHUSDT {2}candles {2}1h .* 1 \(2 bars\) /m);
    expect(text.stdout).toContain('gaps:\n  ETHUSDT-candles-1h.arrow row 3: gap of 2 bars between 2025-01-01T02:00:00.000Z (1735696800000) and 2025-01-01T05:00:00.000Z (1735707600000)');
    // the gap is a problem, as data validate and a backtest judge it (the default gap policy)
    expect(text.stdout).toContain('2 validation problems:\n  ETHUSDT-candles-1h.arrow row 2: volume -1 must be a finite number ≥ 0\n  ETHUSDT-candles-1h.arrow row 3: gap of 2 bars');
    // says where the policy is set (it said "the 'warn' gap policy loads anyway", and a run's user had to find data.gaps)
    expect(text.stdout).toContain("(gaps are errors: data.gaps: 'warn' in the config, --gaps warn of data validate and data inspect, or loadDataset's { gaps: 'warn' } loads the data with them (nothing is filled in: a bar no symbol has is left out of the timeline))");
    expect(json.code).toBe(65);
    const s = JSON.parse(json.stdout);
    expect(s.problemCount).toBe(2);
    expect(s.files.find((f: { path: string }) => f.path === 'ETHUSDT-candles-1h.arrow')).toMatchObject({ gaps: 1, missingBars: 2 });
  });

  it('--gaps warn lists a gap without counting it; a bad --gaps value is a usage error (64)', async () => {
    const [warn, bad] = await Promise.all([feedCli(['data', 'inspect', flawed, '--gaps', 'warn']), feedCli(['data', 'inspect', flawed, '--gaps', 'ignore'])]);
    expect(warn.code).toBe(65);
    expect(warn.stdout).toContain('gaps:\n  ETHUSDT-candles-1h.arrow row 3: gap of 2 bars');
    expect(warn.stdout).toContain('1 validation problem:\n  ETHUSDT-candles-1h.arrow row 2: volume -1');
    expect(bad.code).toBe(64);
  });

  it('never calls a dataset clean that data validate refuses: gaps, a symbol without default-timeframe candles, candles off the shared grid, an entry linking out of the folder or naming a folder', async () => {
    const gapped = join(root, 'gapped');
    const noDefault = join(root, 'no-default');
    const offGrid = join(root, 'off-grid');
    await writeDataset(gapped, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h', (c) => { c.time[5]! += H; })] });
    await writeDataset(noDefault, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h'), candles('ETHUSDT', 12, H / 2, '30m')] });
    await writeDataset(offGrid, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h'), candles('ETHUSDT', 6, H, '1h', (c) => { for (let i = 0; i < 6; i++) c.time[i]! += H / 2; })] });
    // an entry that is a link out of the folder, and one that is a folder: inspect said 'validation: ok' (exit 0) and stopped at the first, respectively
    const linked = join(root, 'linked-out');
    const folderEntry = join(root, 'folder-entry');
    for (const d of [linked, folderEntry]) await writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h'), funding] });
    renameSync(join(linked, 'BTCUSDT-funding.arrow'), join(root, 'outside-funding.arrow'));
    symlinkSync(join(root, 'outside-funding.arrow'), join(linked, 'BTCUSDT-funding.arrow'));
    rmSync(join(folderEntry, 'BTCUSDT-funding.arrow'));
    mkdirSync(join(folderEntry, 'BTCUSDT-funding.arrow'));
    // a data file changed behind the manifest's back: the same line (and advice) from both
    const tampered = join(root, 'tampered');
    await writeDataset(tampered, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h', (c) => { c.close[2] = 104; })] });
    const m = JSON.parse(readFileSync(join(tampered, 'manifest.json'), 'utf8')) as { files: { sha256: string }[] };
    m.files[0]!.sha256 = '0'.repeat(64);
    writeFileSync(join(tampered, 'manifest.json'), JSON.stringify(m));
    const [ti, tv] = await Promise.all([feedCli(['data', 'inspect', tampered]), feedCli(['data', 'validate', tampered])]);
    const hashLine = /BTCUSDT-candles-1h\.arrow: sha256 [0-9a-f]{64} differs from the manifest's 0{64} \(the file changed after the manifest was written; re-import it\)/;
    expect(ti.stdout).toMatch(hashLine);
    expect(tv.stderr).toMatch(hashLine);
    // the manifest's default timeframe names no candles at all: a data problem for both (validate said 78, a config error)
    const noCandles = join(root, 'default-without-candles');
    await writeDataset(noCandles, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h')] });
    const nm = JSON.parse(readFileSync(join(noCandles, 'manifest.json'), 'utf8')) as { timeframe: string };
    nm.timeframe = '4h';
    writeFileSync(join(noCandles, 'manifest.json'), JSON.stringify(nm));
    const [ni, nv, asked] = await Promise.all([feedCli(['data', 'inspect', noCandles]), feedCli(['data', 'validate', noCandles]), feedCli(['data', 'validate', noCandles, '--timeframe', '4h'])]);
    expect([ni.code, nv.code]).toEqual([65, 65]);
    expect(nv.stderr).toContain(`${join(noCandles, 'manifest.json')}: its default timeframe 4h has no candles (timeframes: 1h); set "timeframe" in manifest.json to one of them`);
    // asked for by the user, the same timeframe stays a choice the dataset cannot serve (78)
    expect(asked.code).toBe(78);
    for (const [dir, text] of [
      [linked, `manifest.json: BTCUSDT-funding.arrow is a symbolic link to ${join(root, 'outside-funding.arrow')}, outside the dataset folder`],
      [folderEntry, 'manifest.json: BTCUSDT-funding.arrow (listed in manifest.json) is a folder, not an Arrow file'],
      [gapped, 'BTCUSDT-candles-1h.arrow row 5: gap of 1 bar'],
      [noDefault, 'manifest.json: no 1h candles (the default timeframe) for ETHUSDT'],
      [offGrid, "ETHUSDT-candles-1h.arrow row 1: timestamp 2025-01-01T00:30:00.000Z (1735691400000) is off the dataset's 1h grid"],
    ] as const) {
      const [inspect, validate] = await Promise.all([feedCli(['data', 'inspect', dir]), feedCli(['data', 'validate', dir])]);
      expect(validate.code, dir).not.toBe(0);
      expect(inspect.code, dir).toBe(65);
      expect(inspect.stdout, dir).toContain(text);
      expect(inspect.stdout, dir).not.toContain('validation: ok');
    }
  });

  it('a file the manifest lists that does not exist is 66 for inspect (summary and every problem still printed) as for validate, one rule', async () => {
    const dir = join(root, 'missing-file');
    await writeDataset(dir, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h'), candles('ETHUSDT', 6, H, '1h', (c) => { c.volume[1] = -1; }), candles('ETHUSDT', 12, H / 2, '30m')] });
    rmSync(join(dir, 'ETHUSDT-candles-30m.arrow'));
    const [text, json, validate] = await Promise.all([feedCli(['data', 'inspect', dir]), feedCli(['data', 'inspect', dir, '--json']), feedCli(['data', 'validate', dir, '--timeframe', '30m', '--symbols', 'ETHUSDT'])]);
    expect(text.code).toBe(66);
    expect(text.stdout).toContain(`2 validation problems:\n  ETHUSDT-candles-30m.arrow: file listed in the manifest is missing: ${join(dir, 'ETHUSDT-candles-30m.arrow')} (restore it, re-import the series, or remove its entry from manifest.json)\n  ETHUSDT-candles-1h.arrow row 2: volume -1 must be a finite number ≥ 0\n`);
    expect(text.stdout).toMatch(/^ETHUSDT {2}candles {2}1h /m);
    expect(json.code).toBe(66);
    expect(JSON.parse(json.stdout)).toMatchObject({ problemCount: 2, missingFiles: ['ETHUSDT-candles-30m.arrow'] });
    expect(validate.code).toBe(66);
    expect(validate.stderr).toContain(`file listed in the manifest is missing: ${join(dir, 'ETHUSDT-candles-30m.arrow')}`);
    // validate lists every problem as inspect does (it stopped at the missing file): a missing funding file beside a cut one
    const two = join(root, 'missing-and-cut');
    await writeDataset(two, { venue: 'v', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h'), candles('ETHUSDT', 6, H, '1h'), funding, { ...funding, symbol: 'ETHUSDT' }] });
    rmSync(join(two, 'ETHUSDT-funding.arrow'));
    const cut = join(two, 'BTCUSDT-funding.arrow');
    writeFileSync(cut, readFileSync(cut).subarray(0, 100));
    const [both, bothInspect] = await Promise.all([feedCli(['data', 'validate', two]), feedCli(['data', 'inspect', two])]);
    expect([both.code, bothInspect.code]).toEqual([66, 66]);
    expect(both.stderr).toMatch(new RegExp(`^marginlab: dataset ${two.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 2 problems in 2 files \\(1 listed file missing\\); nothing was loaded\n`));
    expect(both.stderr).toContain(`  ETHUSDT-funding.arrow: file listed in the manifest is missing: ${join(two, 'ETHUSDT-funding.arrow')}`);
    expect(both.stderr).toMatch(/\n {2}BTCUSDT-funding\.arrow: [^\n]+\n/);
    expect(both.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 66 for a missing dataset folder', async () => {
    const r = await feedCli(['data', 'inspect', join(root, 'nope')]);
    expect(r.code).toBe(66);
    expect(r.stderr).toContain('dataset folder not found');
    // and what to do: how to make one, and where the bundled sample is (a user's project has no data/binance-usdm-2025)
    // as commands to copy (they named 'marginlab import', no folder, a command not found in a user's project)
    expect(r.stderr).toBe(`marginlab: dataset folder not found: ${join(root, 'nope')} (make one with \`npx marginlab import <files> --out ${join(root, 'nope')}\` or \`npx marginlab data synth --symbols 4 --bars 20000 --timeframe 1h --out ${join(root, 'nope')}\`, marginlab's docs/data.md; the sample dataset bundled with marginlab is ${SAMPLE_DATA})\n`);
  });
});

describe('a path that is not a dataset folder', () => {
  it("a dataset's manifest or data file, a file of the user's data, a folder of them: 66 saying which folder to give or what to import where (the manifest or the input folder itself were suggested as --out)", async () => {
    const proj = join(root, 'user-proj');
    const ds = join(proj, 'data', 'mine');
    await writeDataset(ds, { venue: 'binance-usdm', timeframe: '1h', series: [candles('BTCUSDT', 6, H, '1h')] });
    mkdirSync(join(proj, 'csv'), { recursive: true });
    writeFileSync(join(proj, 'csv', 'BTC_USDT_USDT-1h-futures.csv'), 'timestamp,open,high,low,close,volume\n');
    writeFileSync(join(proj, 'csv', 'BTC_USDT_USDT-8h-mark.csv'), 'timestamp,open,high,low,close\n');
    writeFileSync(join(proj, 'csv', 'ETH_USDT_USDT-1h-futures.feather'), '');
    writeFileSync(join(proj, 'prices.csv'), 'timestamp,open,high,low,close,volume\n');
    mkdirSync(join(proj, 'empty'));
    const v = (p: string) => runCli(['data', 'validate', p], proj);
    const [manifest, arrow, folder, file, empty] = await Promise.all([v('data/mine/manifest.json'), v('data/mine/BTCUSDT-candles-1h.arrow'), v('csv'), v('prices.csv'), v('empty')]);
    for (const r of [manifest, arrow, folder, file, empty]) {
      expect(r.code).toBe(66);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(manifest.stderr).toBe(`marginlab: ${join(proj, 'data', 'mine', 'manifest.json')} is a file, not a dataset folder: give the dataset folder data/mine, which holds the manifest.json\n`);
    expect(arrow.stderr).toContain('BTCUSDT-candles-1h.arrow is a file, not a dataset folder: give the dataset folder data/mine, which holds the manifest.json');
    // `import csv ...` would be the `import csv` subcommand: the folder is ./csv; never the input folder as --out (import refuses it)
    expect(folder.stderr).toBe(`marginlab: dataset manifest not found: ${join(proj, 'csv', 'manifest.json')}: csv holds data files (BTC_USDT_USDT-1h-futures.csv, BTC_USDT_USDT-8h-mark.csv and 1 more) but is not a dataset; import them into a dataset folder of their own (\`npx marginlab import ./csv --out data/csv\`, marginlab's docs/data.md) and give that folder\n`);
    // a CSV of the user's own columns is imported with its kind and symbol: the command says so (the one without them is refused, 64)
    expect(file.stderr).toBe(`marginlab: ${join(proj, 'prices.csv')} is a file, not a dataset folder (a folder with a manifest.json): import it into one (\`npx marginlab import ./prices.csv --out data/prices\`, marginlab's docs/data.md) and give that folder; a CSV of your own columns (not a Binance or venue export) also needs its kind and symbol: \`npx marginlab import ./prices.csv --kind candles --symbol BTCUSDT --out data/prices\`\n`);
    // an empty folder: as before, make the dataset there
    expect(empty.stderr).toContain('(a dataset folder needs a manifest.json; create one with `npx marginlab import <files> --out empty`');
    // a dataset whose manifest.json is gone: its series files are no import's input (the hint to import them failed, 64), and
    // its .marginlab.json is no data file
    mkdirSync(join(proj, 'lost'));
    for (const f of ['BTCUSDT-candles-1h.arrow', 'BTCUSDT-funding.arrow', 'ETHUSDT-mark-8h.arrow', '.marginlab.json']) writeFileSync(join(proj, 'lost', f), 'x');
    const lost = await v('lost');
    expect(lost.code).toBe(66);
    expect(lost.stderr).toBe(`marginlab: dataset manifest not found: ${join(proj, 'lost', 'manifest.json')}: lost holds a dataset's series files (BTCUSDT-candles-1h.arrow, BTCUSDT-funding.arrow and 1 more) but its manifest.json is gone; restore it from a copy, or import the data again from its sources into a new folder (marginlab's docs/data.md)\n`);
  });
});

describe('data validate flags', () => {
  it('--timeframe and --symbols (comma-separated, spaces trimmed, in that order) reach the loader', async () => {
    const r = await feedCli(['data', 'validate', clean, '--timeframe', '30m', '--symbols', ' ETHUSDT , BTCUSDT']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: clean 30m: 12 bars × 2 symbols \(ETHUSDT, BTCUSDT\), 2025-01-01T00:00:00\.000Z → 2025-01-01T05:30:00\.000Z, mark at bar timeframe: 0\/2, funding events: 1; loaded in \d+ ms\n$/);
    // one timeframe written another way is the dataset's series of that length (it was 78: "has no 60m candles")
    const [m60, s3600] = await Promise.all([feedCli(['data', 'validate', clean, '--timeframe', '60m']), feedCli(['data', 'validate', clean, '--timeframe', '1800s'])]);
    expect(m60.code, m60.stderr).toBe(0);
    expect(m60.stdout).toMatch(/^ok: clean 1h: 6 bars × 2 symbols/);
    expect(s3600.stdout).toMatch(/^ok: clean 30m: 12 bars/);
  });
  it('an unknown symbol or timeframe, or a symbol listed twice, is a config error (78) naming the flag; a --symbols naming none and a bad --gaps value are usage errors (64)', async () => {
    const [sym, tf, twice, none, gaps] = await Promise.all([
      feedCli(['data', 'validate', clean, '--symbols', 'BTCUSDT,ZZZUSDT']),
      feedCli(['data', 'validate', clean, '--timeframe', '4h']),
      feedCli(['data', 'validate', clean, '--symbols', 'BTCUSDT,BTCUSDT']),
      feedCli(['data', 'validate', clean, '--symbols', ' , ']),
      feedCli(['data', 'validate', clean, '--gaps', 'ignore']),
    ]);
    expect(sym.code).toBe(78);
    expect(sym.stderr).toMatch(/^marginlab: --symbols: dataset \S+ has no symbol ZZZUSDT/);
    expect(tf.code).toBe(78);
    expect(tf.stderr).toMatch(/^marginlab: --timeframe: dataset \S+ has no 4h candles \(timeframes: 30m, 1h\)\n$/);
    // it said "data.symbols for dataset …", a config key this command has none of
    expect(twice.code).toBe(78);
    expect(twice.stderr).toMatch(/^marginlab: --symbols: dataset \S+: a symbol is listed twice \(BTCUSDT, BTCUSDT\)\n$/);
    // it was 78 "no symbols selected", naming neither the flag nor what to do
    expect(none.code).toBe(64);
    expect(none.stderr).toBe("marginlab: --symbols ' , ' names no symbol: give comma-separated names (e.g. --symbols BTCUSDT,ETHUSDT), or leave it out for all\n");
    expect(gaps.code).toBe(64);
    expect(gaps.stderr).toContain("--gaps: expected error or warn, got 'ignore'");
  });
});

describe('data synth flags', () => {
  it('every model flag reaches synthesize (recorded in manifest.generator); --no-mark writes no mark files; --start sets the first bar', async () => {
    const out = join(root, 'syn');
    const r = await feedCli([
      'data', 'synth', '--symbols', '2', '--bars', '1_000', '--timeframe', '1h', '--seed', '-9', '--start', '2024-03-01',
      '--vol', '0.5,0.9', '--correlation', '0.3', '--drift', '0.1', '--crashes-per-year', '0', '--crash-size', '0.2',
      '--wicks-per-year', '3', '--wick-size', '0.02', '--basis-bps', '7', '--funding-mean', '0.0002', '--no-mark', '--quiet', '--out', out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^wrote ${out.replace(/[.\\]/g, '\\$&')}: 2 symbols \\(BTCUSDT, ETHUSDT\\) × 1000 1h bars, 4 files in \\d+\\.\\d s\\n$`));
    expect(r.stderr).toBe('');
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m.generator).toMatchObject({
      kind: 'synth', version: 2, symbols: 2, bars: 1000, timeframe: '1h', seed: -9, start: Date.UTC(2024, 2, 1), vols: [0.5, 0.9], correlation: 0.3, drift: 0.1,
      crashesPerYear: 0, crashSize: 0.2, wicksPerYear: 3, wickSize: 0.02, basisBps: 7, fundingMean: 0.0002, mark: false,
    });
    expect(readdirSync(out).filter((f) => f.includes('-mark-'))).toEqual([]);
    expect(m.files.find((f: { path: string }) => f.path === 'BTCUSDT-candles-1h.arrow').first).toBe(Date.UTC(2024, 2, 1));
  });

  it('a window no funding time falls in writes no funding file, and the dataset loads (it listed an empty one every loader refused)', async () => {
    const out = join(root, 'syn-nofunding');
    const r = await feedCli(['data', 'synth', '--symbols', '1', '--bars', '400', '--timeframe', '1m', '--start', '2024-01-01T09:00:00Z', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { files: { kind: string; rows: number }[] };
    expect(m.files.map((f) => f.kind).sort()).toEqual(['candles', 'mark']);
    const v = await feedCli(['data', 'validate', out]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('--start takes ms UTC and zoned ISO date-times', async () => {
    const [ms, zoned] = await Promise.all([
      feedCli(['data', 'synth', '--symbols', '1', '--bars', '2', '--start', String(Date.UTC(2024, 5, 1)), '--out', join(root, 'start-ms')]),
      feedCli(['data', 'synth', '--symbols', '1', '--bars', '2', '--start', '2024-06-01T02:00:00+02:00', '--out', join(root, 'start-zoned')]),
    ]);
    expect([ms.code, zoned.code]).toEqual([0, 0]);
    for (const d of ['start-ms', 'start-zoned']) {
      expect(JSON.parse(readFileSync(join(root, d, 'manifest.json'), 'utf8')).generator.start).toBe(Date.UTC(2024, 5, 1));
    }
  });

  it('bad flag values are usage errors (64) naming the flag, and nothing is written', async () => {
    const base = ['data', 'synth', '--symbols', '1', '--bars', '10'];
    const cases: [string[], string][] = [
      [['data', 'synth', '--symbols', '0', '--bars', '10'], "--symbols: expected an integer ≥ 1, got '0'"],
      [['data', 'synth', '--symbols', '1', '--bars', '1'], "--bars: expected an integer ≥ 2, got '1'"],
      [[...base, '--seed', '1.5'], "--seed: expected an integer, got '1.5'"],
      [[...base, '--start', 'tomorrow'], "--start: expected an ISO date or ms UTC, got 'tomorrow'"],
      // not ISO: Date.parse would read it in the machine's time zone
      [[...base, '--start', '1/2/2024'], "--start: expected an ISO date or ms UTC, got '1/2/2024'"],
      [[...base, '--vol', '0.5,abc'], "--vol: expected a number, got 'abc'"],
      [[...base, '--correlation', 'high'], "--correlation: expected a number, got 'high'"],
      [[...base, '--correlation', '1'], 'data synth: --correlation must be in [0, 1) (got 1)'],
      [[...base, '--crash-size', ''], "--crash-size: expected a number, got ''"],
      [[...base, '--crash-size', '2'], 'data synth: --crash-size must be < 1 (got 2)'],
      [[...base, '--timeframe', '1q'], "invalid timeframe '1q'"],
    ];
    const out = join(root, 'bad');
    const res = await Promise.all(cases.map(([args]) => feedCli([...args, '--out', out])));
    res.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(64);
      expect(r.stderr).toContain(cases[i]![1]);
    });
    expect(existsSync(out)).toBe(false);
    // commander: a required flag missing
    const missing = await feedCli(['data', 'synth', '--symbols', '1']);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("required option '--bars <n>' not specified");
  });

  it('into a dataset of imported data: 64 in the command\'s words (its flags), the dataset unchanged; --force writes it', async () => {
    const imported = join(root, 'synth-over-imported');
    const csv = join(root, 'synth-over-imported.csv');
    writeFileSync(csv, 'timestamp,open,high,low,close,volume\n' + [0, 1, 2].map((i) => `${Date.UTC(2024, 0, 1, i)},100,101,99,100,5`).join('\n') + '\n');
    expect((await feedCli(['import', 'csv', csv, '--kind', 'candles', '--symbol', 'ETHUSDT', '--timeframe', '1h', '--out', imported])).code).toBe(0);
    const before = readFileSync(join(imported, 'manifest.json'), 'utf8');
    const r = await feedCli(['data', 'synth', '--symbols', '1', '--bars', '10', '--timeframe', '1h', '--out', imported]);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`marginlab: data synth: ${imported} holds the dataset 'synth-over-imported' of imported or downloaded data, whose files this write would replace (its other series left unlisted beside the new manifest); choose another --out, or add --force to replace them\n`);
    expect(readFileSync(join(imported, 'manifest.json'), 'utf8')).toBe(before);
    expect((await feedCli(['data', 'synth', '--symbols', '1', '--bars', '10', '--timeframe', '1h', '--out', imported, '--force', '--quiet'])).code).toBe(0);
  });

  it('the binary writes to data/synth-<symbols>x<bars>-<tf>-s<seed> under the working folder by default', async () => {
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const r = await runCli(['data', 'synth', '--symbols', '1', '--bars', '3', '--timeframe', '5m', '--seed', '4'], cwd);
    expect(r.code).toBe(0);
    const dir = join(cwd, 'data', 'synth-1x3-5m-s4');
    expect(readdirSync(dir).filter((f) => f !== '.marginlab.json').sort()).toEqual(['BTCUSDT-candles-5m.arrow', 'BTCUSDT-funding.arrow', 'BTCUSDT-mark-5m.arrow', 'manifest.json']);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).generator).toMatchObject({ correlation: 0.6, start: Date.UTC(2024, 0, 1), mark: true });
  });
});
