/**
 * init never leaves a project half-made: a write that fails part way (a full disk) takes back the
 * files this init wrote and the folders it made; the user's files stay.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

afterEach(() => {
  vi.doUnmock('../src/util/atomic.js');
  vi.resetModules();
});

/** initProject with writeFileAtomic failing (ENOSPC) on its nth write */
async function initFailingAt(n: number, dir: string): Promise<unknown> {
  vi.resetModules();
  const real = await vi.importActual<typeof import('../src/util/atomic.js')>('../src/util/atomic.js');
  let calls = 0;
  vi.doMock('../src/util/atomic.js', () => ({
    ...real,
    writeFileAtomic: (p: string, text: string) => {
      if (++calls === n) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${p}'`), { code: 'ENOSPC' });
      real.writeFileAtomic(p, text);
    },
  }));
  const { initProject } = await import('../src/cli/commands/init.js');
  return initProject(dir).then(() => null, (e: unknown) => e);
}

describe('init takes back what it wrote when a write fails', () => {
  it.each([1, 3, 5])('write %i of 5 fails: no file of init is left, nor a folder it made; exit 70-class error names the file', async (n) => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-init-rb-'));
    const err = await initFailingAt(n, join(parent, 'a', 'proj'));
    expect(err).toMatchObject({ name: 'UserError' });
    expect((err as Error).message).toMatch(/no space left|ENOSPC/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("in an existing folder: the user's files stay, only init's are taken back", async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-init-rb-'));
    writeFileSync(join(parent, 'package.json'), '{"name":"mine"}\n');
    mkdirSync(join(parent, 'src'));
    const err = await initFailingAt(3, parent); // config, strategy, tsconfig (3rd) fails
    expect(err).toMatchObject({ name: 'UserError' });
    expect(readdirSync(parent).sort()).toEqual(['package.json', 'src']);
    expect(readFileSync(join(parent, 'package.json'), 'utf8')).toBe('{"name":"mine"}\n');
  });

  it('a .gitignore that is a dangling symbolic link is the user\'s: kept, not replaced', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-init-rb-'));
    symlinkSync(join(parent, 'elsewhere', 'gitignore'), join(parent, '.gitignore'));
    const { initProject } = await import('../src/cli/commands/init.js');
    const out = await initProject(parent);
    expect(out.kept).toContain('.gitignore');
    expect(out.written).not.toContain('.gitignore');
    expect(existsSync(join(parent, 'elsewhere'))).toBe(false);
  });
});
