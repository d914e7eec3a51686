/**
 * What a strategy's create() throws errors its runs saying where, as a callback's throw does
 * ("strategy threw: … (in onBar at …, strategies/x.ts:31:15)"): it came as the bare message
 * ("Cannot read properties of undefined (reading 'toFixed')", "import_marginlab.SMA is not a
 * constructor" for a misspelt import), without the strategy's file or line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { resultFiles, runCli, writeConfig } from './fixtures/run/cli.js';
import type { RunResult } from '../src/shard/types.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-create-'));
  await makeDataset(join(dir, 'data'), { bars: 120, seed: 3 });
  mkdirSync(join(dir, 'mine'));
  const mod = (name: string, create: string) =>
    `export default {\n  name: '${name}',\n  description: 'test',\n  params: { safeParse: (v) => ({ success: true, data: v ?? {} }) },\n  symbols: () => ['AAAUSDT'],\n${create}\n};\n`;
  writeFileSync(join(dir, 'mine', 'create-throws.mjs'), mod('create-throws', "  create(p) {\n    const sizes = [];\n    return { onBar() {}, size: sizes[3].toFixed(2) };\n  },"));
  writeFileSync(join(dir, 'mine', 'fine.mjs'), mod('fine', '  create() {\n    return { onBar() {} };\n  },'));
});

describe("a strategy's create() that throws", () => {
  it('errors its runs naming create and the strategy line (exit 1), and leaves the other strategies alone', async () => {
    writeConfig(dir, 'c.config.ts', { name: 'c', data: './data', workers: 1, leverage: [3], strategyDirs: ['./mine'], strategies: ['create-throws', 'fine'] });
    const r = await runCli(['run', '-c', 'c.config.ts', '--out', 'out'], dir);
    expect(r.code, r.stderr).toBe(1);
    const results = resultFiles(join(dir, 'out')).map((f) => JSON.parse(readFileSync(join(dir, 'out', 'results', f), 'utf8')) as RunResult);
    const bad = results.filter((x) => x.spec.strategy === 'create-throws');
    expect(bad).toHaveLength(2);
    for (const x of bad) {
      expect(x.status).toBe('errored');
      expect(x.status === 'errored' && x.error).toBe("strategy threw: TypeError: Cannot read properties of undefined (reading 'toFixed') (in create, mine/create-throws.mjs:8:41)");
      expect('internal' in x).toBe(false);
    }
    expect(results.filter((x) => x.spec.strategy === 'fine').map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(r.stderr).toContain("errored: strategy threw: TypeError: Cannot read properties of undefined (reading 'toFixed') (in create, mine/create-throws.mjs:8:41)");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
