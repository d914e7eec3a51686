/**
 * The run command's report step reads the results it has just written (or validated for --resume)
 * without checking their schema again: SweepOutcome.checked holds each file's sha256, and
 * loadRunFolder parses a file whose bytes still hash to it as it is. Any other file — changed since,
 * or not in the map — is validated as always. The reports are the same either way.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunFolder } from '../src/report/load.js';
import { sha256Hex } from '../src/shard/hash.js';
import { UserError } from '../src/errors.js';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, resultFiles, runCli, writeConfig } from './fixtures/run/cli.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-checked-'));
  await makeDataset(join(dir, 'data'), { bars: 600, seed: 5 });
  writeConfig(dir, 'sweep.config.ts', { name: 'fx', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 24] } }], leverage: [3, 20] });
  const r = await runCli(['run', '-c', 'sweep.config.ts', '--workers', '1', '--out', 'out', '--quiet'], dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hashes = (out: string): Map<string, string> => new Map(resultFiles(out).map((f) => [f.slice(0, 16), sha256Hex(readFileSync(join(out, 'results', f)))]));

describe('the report step of run', () => {
  it('writes the same report files as `marginlab report` re-rendering them from the validated results', async () => {
    const out = join(dir, 'out');
    const files = readdirSync(out).filter((f) => /\.(json|csv|md|html)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['summary.json', 'runs.csv', 'trades.csv', 'report.md', 'report.html']));
    const before = new Map(files.map((f) => [f, readFileSync(join(out, f), 'utf8')]));
    const r = await runCli(['report', 'out', '--quiet'], dir);
    expect(r.code, r.stderr).toBe(0);
    for (const f of files) expect(readFileSync(join(out, f), 'utf8'), f).toBe(before.get(f));
  });
});

describe('loadRunFolder with checked hashes', () => {
  it('reads the same results as without them', () => {
    const out = join(dir, 'out');
    const plain = loadRunFolder(out, { forReport: true });
    const checked = loadRunFolder(out, { forReport: true, checked: hashes(out) });
    expect(checked.results.length).toBeGreaterThan(0);
    expect(checked).toEqual(plain);
  });

  it('validates a file whose bytes no longer hash to the checked sha256 (and only such a file is read unchecked when they do)', () => {
    const out = join(dir, 'copy');
    cpSync(join(dir, 'out'), out, { recursive: true });
    const sums = hashes(out);
    // a result edited after it was checked: a metric removed (the schema requires every metric of an ok result)
    const f = resultFiles(out)[0]!;
    const p = join(out, 'results', f);
    const json = JSON.parse(readFileSync(p, 'utf8')) as { status: string; metrics: Record<string, unknown> };
    expect(json.status).toBe('ok');
    delete json.metrics.netPnl;
    writeFileSync(p, `${JSON.stringify(json)}\n`);
    // with the old hash: validated, refused (65, naming the file and the key)
    let err: unknown;
    try {
      loadRunFolder(out, { forReport: true, checked: sums });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(65);
    expect(String((err as Error).message) + JSON.stringify((err as { details?: unknown }).details ?? '')).toMatch(/metrics\.netPnl: missing/);
    // the hash of the edited bytes vouches for them: read as they are (the check was skipped, which is what `checked` means)
    sums.set(f.slice(0, 16), sha256Hex(readFileSync(p)));
    const read = loadRunFolder(out, { forReport: true, checked: sums });
    expect(read.results.find((r) => r.runId === f.slice(0, 16))!.metrics).not.toHaveProperty('netPnl');
  });
});
