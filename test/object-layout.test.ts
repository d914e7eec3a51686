import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

describe('object layouts that do not change mid-sweep (util/double-fields.ts)', () => {
  it("a new position has the layout of one that has held fractions (no deoptimisation wave in a worker's next pass)", () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', join(root, 'test/fixtures/layout/position-map.ts')], { encoding: 'utf8', cwd: root });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ filled: true, qty: 1.003, sameMap: true });
  });
});
