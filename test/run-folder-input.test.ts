/**
 * A dataset folder given where a run folder is expected (report, compare) is said as such: it read
 * "data/ft/results is missing: no stored results to report on", as if a run folder had lost its results.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { runCli } from './fixtures/run/cli.js';
import { loadRunFolder } from '../src/report/load.js';

describe('a dataset given for a run folder', () => {
  it('report and compare say it is a dataset and what to give (66)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-runfolder-'));
    const data = join(dir, 'ft');
    await makeDataset(data, { bars: 50, seed: 2 });
    const said = `${data} is a dataset (market data), not a run folder: give a folder \`marginlab run\` wrote (its --out, by default reports/<name>)`;
    expect(() => loadRunFolder(data)).toThrow(said);
    const [report, compare] = await Promise.all([runCli(['report', data], dir), runCli(['compare', data, data], dir)]);
    expect([report.code, report.stderr]).toEqual([66, `marginlab: ${said}\n`]);
    expect([compare.code, compare.stderr]).toEqual([66, `marginlab: ${said}\n`]);
  });
});
