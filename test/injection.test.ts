/**
 * Injection through a run folder (issue 11): everything loaded from a folder is validated by its
 * schema first (a crafted manifest or result is exit 65 naming the file), and every value rendered
 * into report.html / report.md is escaped even if a crafted object got past validation (checked in
 * headless Chromium: no script runs, no dialog opens).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { loadRunFolder, renderReportFiles, writeReport } from '../src/report/index.js';
import { UserError } from '../src/errors.js';
import { makeManifest, makeResults, writeRunFolder } from './fixtures/report/fixture.js';
import type { RunManifest, RunResult } from '../src/shard/types.js';

const PAYLOAD = '<img src=x onerror="alert(document.domain)"><script>alert(1)</script>';
const results = makeResults(24 * 30);

const load65 = (dir: string): UserError => {
  try {
    loadRunFolder(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
};

describe('a crafted run folder is refused before anything is rendered', () => {
  it('manifest.workers, manifest.shard.index and a result\'s spec.setup: exit 65 naming the file and the key', () => {
    const cases: [string, (m: RunManifest, r: RunResult[]) => void, RegExp, RegExp][] = [
      ['workers', (m) => { (m as unknown as Record<string, unknown>).workers = PAYLOAD; }, /manifest\.json is not a valid run manifest$/, /^workers: /],
      ['shard', (m) => { m.shard = { index: PAYLOAD as unknown as number, count: 2 }; }, /manifest\.json is not a valid run manifest$/, /^shard\.index: /],
      ['setup', (_m, r) => { (r[0]!.spec as unknown as Record<string, unknown>).setup = PAYLOAD; }, /results\/[0-9a-f]{16}\.json is not a valid run result: run the command that wrote the folder again with --resume \(it runs a damaged result again\)$/, /^spec\.setup: /],
    ];
    for (const [name, craft, msg, detail] of cases) {
      const rs = results.map((r) => JSON.parse(JSON.stringify(r)) as RunResult);
      const m = makeManifest(rs);
      craft(m, rs);
      const d = writeRunFolder(mkdtempSync(join(tmpdir(), `ml-inject-${name}-`)), rs, m);
      const e = load65(d);
      expect(e.exitCode).toBe(65);
      expect(e.message).toMatch(msg);
      expect(e.details.some((x) => detail.test(x))).toBe(true);
    }
  });
});

describe('escaping holds even for objects that bypass validation', () => {
  it('report.md has no raw HTML and report.html runs no script in Chromium', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-inject-render-'));
    const rs = results.map((r) => JSON.parse(JSON.stringify(r)) as RunResult);
    const failed = rs.find((r) => r.status === 'errored')!;
    (failed.spec as unknown as Record<string, unknown>).setup = PAYLOAD;
    const m = { ...makeManifest(rs), workers: PAYLOAD as unknown as number, shard: { index: PAYLOAD as unknown as number, count: 2 }, warnings: [PAYLOAD] };
    // writeReport checks the manifest it is given (a crafted one is refused naming its first problem): rendered past it
    await expect(writeReport({ dir: d, results: rs, manifest: m, formats: ['md', 'html'] })).rejects.toThrow(/^writeReport: manifest must be the run folder's manifest .*got not a run manifest \(/);
    await renderReportFiles({ dir: d, results: rs, manifest: m, formats: ['md', 'html'] });
    const md = readFileSync(join(d, 'report.md'), 'utf8');
    const html = readFileSync(join(d, 'report.html'), 'utf8');
    expect(md).not.toMatch(/<img|<script/i);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert(1)');
    if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing (apt-get install -y chromium)');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const dialogs: string[] = [];
      const errors: string[] = [];
      page.on('dialog', (x) => { dialogs.push(x.message()); void x.dismiss(); });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(join(d, 'report.html')).href, { waitUntil: 'load' });
      await page.waitForTimeout(300);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(await page.locator('footer').innerText()).toContain('<script>alert(1)</script>');
    } finally {
      await browser.close();
    }
    writeFileSync(join(d, 'done'), '');
  });
});
