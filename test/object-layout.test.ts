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

  it("a replay's engine objects keep their maps for the next one: no optimized code is thrown away between passes", () => {
    // eight replays, each followed by a full collection; before the last replay's runners (and an
    // account's last fill and settlement) were kept, the passes after the third threw away optimized
    // engine code 90-130 times ("weak objects", "code dependencies") and compiled it again
    const r = spawnSync(process.execPath, ['--conditions=marginlab-source', '--expose-gc', '--trace-deopt', '--import', 'tsx', join(root, 'test/fixtures/layout/kept-code.ts')], { encoding: 'utf8', cwd: root, maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    const after = r.stdout.split('--- passes after the warm-up')[1]?.split('--- end of the passes');
    expect(after).toHaveLength(2);
    const thrown = after![0]!.split('\n').filter((l) => l.includes('marking dependent code'));
    expect(thrown.length, thrown.join('\n')).toBeLessThanOrEqual(10);
    // only a worker keeps the last replay (and the data it read); a caller of replay() gets it freed
    const probe = after![1]!.split('\n').find((l) => l.startsWith('{'));
    expect(JSON.parse(probe!)).toEqual({ keptWhenOn: true, heldWhenOff: false });
  });
});
