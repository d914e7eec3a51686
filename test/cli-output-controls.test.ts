/**
 * The terminal lines of compare, report, merge, stress --list, data synth/download and import name the user's things (a run folder's
 * path, a scenario's title) with their control characters shown as escapes (visible), as `run` and every
 * error message do (docs/report.md, Escaping): an ESC sequence in a folder's name recoloured the terminal
 * or set its title (OSC), a line break started a line of its own, a bidi override reversed the rest.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeManifest, makeResults, writeRunFolder } from './fixtures/report/fixture.js';
import { makeDataset } from './fixtures/run/data.js';
import { runCli, writeConfig } from './fixtures/run/cli.js';

// ESC [ (colour), OSC 0 (window title) ended by BEL, a line break, a right-to-left override
const HOSTILE = 'x\x1b[31mRED\x1b]0;pwned\x07\nnext\u202eX';
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
let root: string;

/** the output's lines carry no control character but their line ends, and none starts with what followed the break */
const clean = (text: string): void => {
  expect(text).not.toMatch(RAW);
  expect(text.split('\n').some((l) => l.startsWith('next'))).toBe(false);
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ml-cli-controls-'));
  const base = makeResults(24 * 10);
  writeRunFolder(join(root, 'base'), base, makeManifest(base, 'nightly'));
  cpSync(join(root, 'base'), join(root, HOSTILE), { recursive: true });
}, 60_000);

describe('terminal output with control characters in user strings', () => {
  it('compare: the folders named in the summary, the warnings and the files written', async () => {
    const r = await runCli(['compare', 'base', HOSTILE, '--out', 'cmp'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('x\\x1b[31mRED\\x1b]0;pwned\\x07\\nnext\\u202eX');
    clean(r.stdout);
    clean(r.stderr);
  });

  it('report and merge: the folder rendered or merged into', async () => {
    const rep = await runCli(['report', HOSTILE, '--formats', 'md'], root);
    // 1: the fixture folder holds an errored run (as `run` says it)
    expect(rep.code).toBe(1);
    expect(rep.stderr).toContain('\\x1b]0;pwned\\x07');
    clean(rep.stderr);
    const m = await runCli(['merge', 'base', '--out', `${HOSTILE}-merged`], root);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('\\x1b]0;pwned\\x07');
    clean(m.stderr);
  });

  it('stress --list: a scenario title of the config', async () => {
    await makeDataset(join(root, 'data'), { bars: 48 });
    writeConfig(root, 'list.config.ts', {
      name: 'list',
      data: './data',
      strategies: 'all',
      stress: { scenarios: [{ id: 'mine', title: HOSTILE, market: { depth: -0.2, duration: '1h' } }] },
    });
    const r = await runCli(['stress', '--list', '-c', 'list.config.ts'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07');
    clean(r.stdout);
  });

  it('data synth: the dataset folder written', async () => {
    const r = await runCli(['data', 'synth', '--symbols', '1', '--bars', '50', '--timeframe', '1h', '--out', `${HOSTILE}-data`], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07');
    clean(r.stdout);
    clean(r.stderr);
  });
});
