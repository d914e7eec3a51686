/**
 * Output folders (src/util/outdir.ts): marginlab deletes only what it wrote, refuses foreign
 * non-empty folders, outputs that overlap an input (real paths), and folders another live process
 * is writing; errno codes become one-line errors (src/util/fs-errors.ts).
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, MARKER_FILE, liveLock, openOutDir, writeOutDir } from '../src/util/outdir.js';
import { fsError } from '../src/util/fs-errors.js';
import { cleanUpForInterrupt } from '../src/util/interrupt.js';
import { UserError } from '../src/errors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ml-outdir-'));
const userError = (fn: () => unknown): UserError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
};
const deadPid = (): number => {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
};

describe('output folder ownership', () => {
  it('a new folder is created, marked and locked; the lock goes on release', () => {
    const d = join(tmp(), 'new', 'out');
    const o = openOutDir(d, { kind: 'run' });
    expect(o.created).toBe(true);
    expect(existsSync(join(d, MARKER_FILE))).toBe(true);
    const lock = JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')) as { pid: number; host: string };
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    o.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('a symbolic link to a folder that does not exist is named as such (64), nothing made; made, the folder behind it is written', () => {
    const q = tmp();
    const link = join(q, 'out');
    symlinkSync('missing-target', link);
    const e = userError(() => openOutDir(link, { kind: 'run', name: '--out' }));
    expect(e.exitCode).toBe(64);
    // it said "the file system will not create it there (a read-only or virtual file system …) (ENOENT)"
    expect(e.message).toBe(`--out ${link} is a symbolic link to 'missing-target', where there is no folder; create that folder, or choose another --out`);
    expect(readdirSync(q)).toEqual(['out']);
    // the broken link a folder above it: named where it is
    expect(userError(() => openOutDir(join(link, 'sub', 'run'), { kind: 'run', name: '--out' })).message).toBe(
      `--out ${join(link, 'sub', 'run')}: ${link} is a symbolic link to 'missing-target', where there is no folder; create that folder, or choose another --out`,
    );
    // a link to a link to nothing: the folder to make is where the chain ends
    symlinkSync('missing-target', join(q, 'second'));
    symlinkSync('second', join(q, 'chain'));
    expect(userError(() => openOutDir(join(q, 'chain'), { kind: 'run', name: '--out' })).message).toBe(
      `--out ${join(q, 'chain')} is a symbolic link to 'second', where there is no folder; create the folder it leads to, ${join(q, 'missing-target')}, or choose another --out`,
    );
    // through a file: no folder can be made there
    writeFileSync(join(q, 'afile'), 'x');
    symlinkSync('afile/sub', join(q, 'tofile'));
    expect(userError(() => openOutDir(join(q, 'tofile'), { kind: 'run', name: '--out' })).message).toBe(`--out ${join(q, 'tofile')} is a symbolic link to 'afile/sub', which runs through a file, not a folder; choose another --out`);
    // a loop of two links
    symlinkSync(join(q, 'loop-b'), join(q, 'loop-a'));
    symlinkSync(join(q, 'loop-a'), join(q, 'loop-b'));
    expect(userError(() => openOutDir(join(q, 'loop-a'), { kind: 'run', name: '--out' })).message).toBe(`--out ${join(q, 'loop-a')} is a symbolic link that leads back to itself (a loop); choose another --out`);
    rmSync(join(q, 'loop-a'));
    rmSync(join(q, 'loop-b'));
    mkdirSync(join(q, 'missing-target'));
    const o = openOutDir(link, { kind: 'run', name: '--out' });
    o.release();
    expect(readdirSync(join(q, 'missing-target'))).toContain(MARKER_FILE);
  });

  it('refuses a non-empty folder marginlab did not make; --force writes into it touching only its own names', async () => {
    const q = tmp();
    mkdirSync(join(q, 'src'));
    writeFileSync(join(q, 'src', 'main.ts'), 'user code');
    writeFileSync(join(q, 'notes.md'), 'mine');
    const e = userError(() => openOutDir(q, { kind: 'run' }));
    expect(e.exitCode).toBe(64);
    expect(e.message).toMatch(/is not empty and was not written by marginlab .*--force/);
    expect(e.message).not.toContain('it would replace your');
    // a file of the user's named as one marginlab writes there: the refusal says --force would replace it
    writeFileSync(join(q, 'report.md'), 'my report');
    expect(userError(() => openOutDir(q, { kind: 'run' })).message).toMatch(/nothing else is touched; it would replace your report\.md, a name marginlab writes there\)$/);
    rmSync(join(q, 'report.md'));
    // a command without --force (import, data download) does not suggest one
    const noFlag = userError(() => openOutDir(q, { kind: 'dataset', forceFlag: false }));
    expect(noFlag.message).toMatch(/is not empty and was not written by marginlab .*choose a new or empty folder$/);
    expect(noFlag.message).not.toMatch(/--force/);
    expect(readdirSync(q).sort()).toEqual(['notes.md', 'src']);
    await writeOutDir(q, { kind: 'dataset', force: true }, (t) => writeFileSync(join(t, 'manifest.json'), '{}'));
    expect(readFileSync(join(q, 'src', 'main.ts'), 'utf8')).toBe('user code');
    expect(readFileSync(join(q, 'notes.md'), 'utf8')).toBe('mine');
    // now it is ours: a second write replaces what it wrote, and only that
    await writeOutDir(q, { kind: 'dataset' }, (t) => writeFileSync(join(t, 'other.arrow'), 'x'));
    expect(existsSync(join(q, 'manifest.json'))).toBe(false);
    expect(readdirSync(q).filter((f) => !f.startsWith('.')).sort()).toEqual(['notes.md', 'other.arrow', 'src']);
    expect(readdirSync(q).filter((f) => f.endsWith('.tmp') || f.endsWith('.old') || f === LOCK_FILE)).toEqual([]);
  });

  it("an interrupt that removes the empty folder this command created says so, not the command's note about what is kept there", () => {
    const root = tmp();
    const made = openOutDir(join(root, 'made'), { kind: 'run' });
    made.interruptNote = `finished results are kept in ${join(root, 'made', 'results')}`;
    mkdirSync(join(root, 'old'));
    writeFileSync(join(root, 'old', 'manifest.json'), '{}');
    const kept = openOutDir(join(root, 'old'), { kind: 'run' });
    kept.interruptNote = 'the results are kept';
    const { notes } = cleanUpForInterrupt();
    expect(notes.sort()).toEqual([`${join(root, 'made')} was not created`, 'the results are kept']);
    expect(existsSync(join(root, 'made'))).toBe(false);
  });

  it('a user file added to a marked folder survives the next write', async () => {
    const d = join(tmp(), 'ds');
    await writeOutDir(d, { kind: 'dataset' }, (t) => writeFileSync(join(t, 'a.arrow'), '1'));
    writeFileSync(join(d, 'README.md'), 'my notes');
    await writeOutDir(d, { kind: 'dataset' }, (t) => writeFileSync(join(t, 'b.arrow'), '2'));
    expect(readdirSync(d).filter((f) => !f.startsWith('.')).sort()).toEqual(['README.md', 'b.arrow']);
  });

  it('a failed build leaves the folder as it was, and no folder at all when it did not exist', async () => {
    const root = tmp();
    const d = join(root, 'never');
    await expect(writeOutDir(d, { kind: 'dataset' }, (t) => {
      writeFileSync(join(t, 'half.arrow'), 'x');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(existsSync(d)).toBe(false);
    const e = join(root, 'existing');
    await writeOutDir(e, { kind: 'dataset' }, (t) => writeFileSync(join(t, 'a.arrow'), '1'));
    await expect(writeOutDir(e, { kind: 'dataset' }, () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(readdirSync(e).filter((f) => f !== MARKER_FILE)).toEqual(['a.arrow']);
    // the folders made for it go too (a failed run left an empty reports/ above reports/<name>), those that were there stay
    mkdirSync(join(root, 'kept'));
    await expect(writeOutDir(join(root, 'kept', 'deep', 'nested', 'out'), { kind: 'run' }, () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(readdirSync(join(root, 'kept'))).toEqual([]);
    // a folder made above it that something else wrote into meanwhile stays
    const o = openOutDir(join(root, 'a', 'b', 'out'), { kind: 'run' });
    writeFileSync(join(root, 'a', 'note.txt'), 'mine');
    expect(o.discard()).toBe(true);
    expect(readdirSync(join(root, 'a'))).toEqual(['note.txt']);
  });

  it('a folder of the other kind is refused even with --force; an old run folder (only run files) is recognised', () => {
    const d = tmp();
    openOutDir(d, { kind: 'dataset' }).release();
    expect(userError(() => openOutDir(d, { kind: 'run', force: true })).message).toMatch(/is a marginlab dataset, not a run folder/);
    const old = tmp();
    mkdirSync(join(old, 'results'));
    writeFileSync(join(old, 'manifest.json'), '{}');
    writeFileSync(join(old, 'summary.json'), '{}');
    openOutDir(old, { kind: 'run' }).release();
  });

  it("a dataset's manifest.json makes a folder a dataset without a marker (refused as another kind even with --force); a compare folder is no run folder", () => {
    const d = tmp();
    writeFileSync(join(d, 'manifest.json'), JSON.stringify({ format: 'marginlab-dataset', version: 1 }));
    writeFileSync(join(d, 'BTCUSDT-candles-1h.arrow'), 'x');
    for (const kind of ['run', 'compare'] as const) expect(userError(() => openOutDir(d, { kind, force: true, accept: () => true })).message).toMatch(/is a marginlab dataset, not a (run|compare) folder/);
    expect(readdirSync(d).sort()).toEqual(['BTCUSDT-candles-1h.arrow', 'manifest.json']);
    openOutDir(d, { kind: 'dataset', accept: (_d, entries) => entries.includes('manifest.json') }).release();
    const c = tmp();
    openOutDir(c, { kind: 'compare' }).release();
    expect(userError(() => openOutDir(c, { kind: 'run', force: true })).message).toMatch(/is a marginlab compare folder, not a run folder/);
    // alsoInto: a run folder accepted by a compare, keeping its kind
    const r = tmp();
    openOutDir(r, { kind: 'run' }).release();
    const o = openOutDir(r, { kind: 'compare', alsoInto: ['run'] });
    expect(o.kind).toBe('run');
    o.release();
  });

  it('a folder inside a run folder (its results/) or a dataset is refused, even with --force; inside a compare folder or beside them is fine', () => {
    const root = tmp();
    const run = join(root, 'run');
    openOutDir(run, { kind: 'run' }).release();
    mkdirSync(join(run, 'results'));
    writeFileSync(join(run, 'results', 'a.json'), '{}');
    // a run written into results/ left a manifest.json there that broke the run folder's report
    for (const [inner, kind] of [[join(run, 'results'), 'run'], [join(run, 'results', 'deeper'), 'run'], [join(run, 'sub'), 'compare']] as const) {
      expect(userError(() => openOutDir(inner, { kind, force: true })).message).toBe(`--out ${inner} is inside the marginlab run folder ${run}, whose files it would mix with its own; choose a folder outside it`);
    }
    expect(readdirSync(join(run, 'results'))).toEqual(['a.json']);
    expect(existsSync(join(run, 'sub'))).toBe(false);
    // a dataset, marked or not (its manifest.json says so)
    const ds = join(root, 'ds');
    mkdirSync(ds);
    writeFileSync(join(ds, 'manifest.json'), JSON.stringify({ format: 'marginlab-dataset', version: 1 }));
    expect(userError(() => openOutDir(join(ds, 'runs', 'x'), { kind: 'run', source: 'config', name: 'output.dir' }))).toMatchObject({ exitCode: 78, message: expect.stringContaining(`output.dir ${join(ds, 'runs', 'x')} is inside the marginlab dataset ${ds}`) });
    const cmp = join(root, 'cmp');
    openOutDir(cmp, { kind: 'compare' }).release();
    openOutDir(join(cmp, 'run'), { kind: 'run' }).release();
    openOutDir(join(root, 'beside'), { kind: 'run' }).release();
  });

  it('claimFiles: a file of that name is replaced only when the marker lists it (or --force); the claim survives a replaceEntries', async () => {
    const d = tmp();
    openOutDir(d, { kind: 'run' }).release();
    writeFileSync(join(d, 'compare.md'), 'mine');
    const o = openOutDir(d, { kind: 'run' });
    const e = userError(() => o.claimFiles(['compare.md', 'compare.html']));
    expect(e.exitCode).toBe(64);
    expect(e.message).toMatch(/holds a compare\.md that marginlab did not write; move it away, choose another folder, or add --force to replace it/);
    mkdirSync(join(d, 'compare.html'));
    expect(userError(() => o.claimFiles(['compare.html'], true)).message).toMatch(/holds a folder named compare\.html/);
    rmSync(join(d, 'compare.html'), { recursive: true });
    o.claimFiles(['compare.md', 'compare.html'], true);
    o.release();
    expect((JSON.parse(readFileSync(join(d, MARKER_FILE), 'utf8')) as { entries: string[] }).entries).toEqual(expect.arrayContaining(['compare.md', 'compare.html']));
    // a merge-like rewrite of the run folder keeps compare.md listed: the next claim needs no --force
    await writeOutDir(d, { kind: 'run' }, (t) => writeFileSync(join(t, 'manifest.json'), '{}'));
    expect(readFileSync(join(d, 'compare.md'), 'utf8')).toBe('mine');
    const again = openOutDir(d, { kind: 'run' });
    again.claimFiles(['compare.md']);
    again.release();
  });

  it('refuses an output equal to, inside or containing an input, comparing real paths; config folder only when equal', () => {
    const root = tmp();
    const data = join(root, 'data');
    mkdirSync(data);
    symlinkSync(data, join(root, 'alias'));
    const inputs = [{ label: 'dataset', path: data }];
    expect(userError(() => openOutDir(data, { kind: 'run', inputs, force: true })).message).toMatch(/is the dataset .*choose an output folder outside it/);
    expect(userError(() => openOutDir(join(root, 'alias'), { kind: 'run', inputs })).message).toMatch(/is the dataset/);
    expect(userError(() => openOutDir(join(root, 'alias', 'sub', 'out'), { kind: 'run', inputs })).message).toMatch(/is inside the dataset/);
    expect(userError(() => openOutDir(root, { kind: 'run', inputs, force: true })).message).toMatch(/contains the dataset/);
    expect(existsSync(join(root, 'alias', 'sub'))).toBe(false);
    const cfg = userError(() => openOutDir(root, { kind: 'run', notEqual: [{ label: "config file's folder", path: root }], force: true, source: 'config', name: 'output.dir' }));
    expect(cfg.exitCode).toBe(78);
    expect(cfg.message).toMatch(/^output\.dir .* is the config file's folder/);
    openOutDir(join(root, 'reports', 'x'), { kind: 'run', notEqual: [{ label: "config file's folder", path: root }] }).release();
  });
});

describe('locks', () => {
  it('a live lock refuses a second writer, naming pid and host; a stale one (dead pid, this host) is taken over', () => {
    const d = tmp();
    const first = openOutDir(d, { kind: 'run' });
    const e = userError(() => openOutDir(d, { kind: 'run' }));
    expect(e.exitCode).toBe(64);
    expect(e.message).toContain(`is being written by another marginlab process (pid ${process.pid} on ${hostname()}`);
    first.release();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'then', command: 'run' }));
    const second = openOutDir(d, { kind: 'run' });
    expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    second.release();
  });
  it("a killed process's temps are removed when the folder is next locked: a dataset's sub-folders too (an import writes beside the series), a live process's kept", async () => {
    const d = tmp();
    writeFileSync(join(d, 'manifest.json'), JSON.stringify({ format: 'marginlab-dataset', version: 1 }));
    mkdirSync(join(d, 'data'));
    const dead = deadPid();
    const stale = [join(d, `.BTCUSDT-candles-1h.arrow.${dead}.0123abcd.tmp`), join(d, 'data', `.ETHUSDT-candles-1h.arrow.${dead}.89abcdef.tmp`)];
    // a process that is running (and started before its temp was made): its temp is kept
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const live = join(d, 'data', `.SOLUSDT-candles-1h.arrow.${other.pid}.00000000.tmp`);
      for (const f of [...stale, live]) writeFileSync(f, 'partial');
      await new Promise((r) => setTimeout(r, 50));
      openOutDir(d, { kind: 'dataset', accept: (_d, entries) => entries.includes('manifest.json') }).release();
      expect(stale.map((f) => existsSync(f))).toEqual([false, false]);
      expect(existsSync(live)).toBe(true);
    } finally {
      other.kill();
    }
  });

  it('liveLock: the holder of a live lock, null for none or a stale one', () => {
    const d = tmp();
    expect(liveLock(d)).toBeNull();
    const o = openOutDir(d, { kind: 'run' });
    expect(liveLock(d)).toMatchObject({ pid: process.pid, host: hostname() });
    o.release();
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'then', command: 'run' }));
    expect(liveLock(d)).toBeNull();
  });
  it.runIf(process.platform === 'linux')('a lock whose pid is now another process (reused: started after the lock was written, or this process itself: a container restarted as pid 1) is stale; its temp files go too', async () => {
    const d = tmp();
    writeFileSync(join(d, MARKER_FILE), JSON.stringify({ tool: 'marginlab', kind: 'run', entries: [] }));
    const before = new Date(Date.now() - 3_600_000).toISOString();
    // this process's own pid, in a lock it did not take (the run killed before the container restarted had the same pid)
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: before, command: 'run' }));
    const ownTemp = `.manifest.json.${process.pid}.0123abcd.tmp`;
    writeFileSync(join(d, ownTemp), '{"cut');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(d, ownTemp), old, old);
    expect(liveLock(d)).toBeNull();
    const o = openOutDir(d, { kind: 'run' });
    expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(existsSync(join(d, ownTemp))).toBe(false);
    o.release();
    // a live process that started after the lock was written: the pid was reused
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((res) => sleeper.once('spawn', res));
      writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: sleeper.pid, host: hostname(), startedAt: before, command: 'run' }));
      expect(liveLock(d)).toBeNull();
      openOutDir(d, { kind: 'run' }).release();
      // the same process holding a lock it wrote after it started: live, refused
      writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: sleeper.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'run' }));
      expect(liveLock(d)).toMatchObject({ pid: sleeper.pid });
      expect(userError(() => openOutDir(d, { kind: 'run' })).message).toContain(`is being written by another marginlab process (pid ${sleeper.pid} on ${hostname()}`);
      // a lock that records its holder's start (clock ticks after boot) is judged by it, whatever the wall clock did since
      const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
      const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
      writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: sleeper.pid, host: hostname(), startedAt: before, command: 'run', procStart: ticks }));
      expect(liveLock(d)).toMatchObject({ pid: sleeper.pid }); // written 'an hour before' the holder started: a clock stepped forward
      writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: sleeper.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'run', procStart: String(Number(ticks) - 1) }));
      expect(liveLock(d)).toBeNull(); // another start: the pid was reused
      // marginlab's own locks record it
      const mine = openOutDir(d, { kind: 'run' });
      expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, procStart: expect.stringMatching(/^\d+$/) });
      mine.release();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
  it("another host's lock is refused unless --force", () => {
    const d = tmp();
    writeFileSync(join(d, MARKER_FILE), JSON.stringify({ tool: 'marginlab', kind: 'run', entries: [] }));
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'then', command: 'run' }));
    expect(userError(() => openOutDir(d, { kind: 'run' })).message).toMatch(/pid 1 on elsewhere.*add --force to take the lock over/);
    openOutDir(d, { kind: 'run', force: true }).release();
    // a lock of another host not refreshed for a minute is stale (its process is gone): taken over
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'then', command: 'run' }));
    const old = new Date(Date.now() - 61_000);
    utimesSync(join(d, LOCK_FILE), old, old);
    openOutDir(d, { kind: 'run' }).release();
  });
});

describe('environment failures', () => {
  it('--out naming a file, under a file, or where nothing can be created: one line, 64 (78 from the config)', () => {
    const root = tmp();
    writeFileSync(join(root, 'file'), 'x');
    expect(userError(() => openOutDir(join(root, 'file'), { kind: 'run' })).message).toMatch(/--out .*file is a file, not a folder/);
    const under = userError(() => openOutDir(join(root, 'file', 'out'), { kind: 'run' }));
    expect(under.exitCode).toBe(64);
    expect(under.message).toMatch(/cannot create the output folder .*file\/out: .*\(ENOTDIR\); choose a writable folder with --out/);
    const ro = userError(() => openOutDir('/proc/marginlab-nowhere/out', { kind: 'run', source: 'config' }));
    expect(ro.exitCode).toBe(78);
    expect(ro.message).toMatch(/cannot create the output folder \/proc\/marginlab-nowhere\/out: the file system will not create it there .*\(ENOENT\)/);
    const long = userError(() => openOutDir(join(root, 'x'.repeat(300)), { kind: 'run' }));
    expect(long.message).toMatch(/ENAMETOOLONG/);
  });
  it('maps every errno in one place: outputs 64/78, inputs 66, data 65, a full disk 70 saying it is not a bug', () => {
    const err = (code: string) => Object.assign(new Error(code), { code });
    const out = (code: string) => fsError(err(code), { path: '/o', action: 'write', role: 'output' }) as UserError;
    for (const c of ['EACCES', 'EROFS', 'EPERM', 'ENOTDIR', 'ENAMETOOLONG']) expect(out(c).exitCode).toBe(64);
    const full = out('ENOSPC');
    expect(full.exitCode).toBe(70);
    expect(full.message).toBe('cannot write /o: no space left on the device (ENOSPC); free space (or fix the device) and run the command again (a run keeps its finished results: use --resume); this is not a marginlab bug');
    expect((fsError(err('EACCES'), { path: '/i', action: 'read', role: 'input' }) as UserError).exitCode).toBe(66);
    expect((fsError(err('EISDIR'), { path: '/d/x.arrow', action: 'read', role: 'data' }) as UserError).exitCode).toBe(65);
    const plain = new Error('not errno');
    expect(fsError(plain, { path: '/o', action: 'write', role: 'output' })).toBe(plain);
    // a library call's folder (writeDataset, synthesize, writeReport): no command to run again, no --resume, no flag to give
    const api = (code: string) => fsError(err(code), { path: '/o', action: 'write', role: 'output', source: 'api' }) as UserError;
    expect(api('ENOSPC').message).toBe('cannot write /o: no space left on the device (ENOSPC); free space (or fix the device) and call it again; this is not a marginlab bug');
    expect(api('EACCES').exitCode).toBe(64);
    expect(api('EACCES').message).toMatch(/; pass a folder marginlab can write$/);
  });
});
