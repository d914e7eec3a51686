/**
 * Output folders: the one module every command that writes a folder goes through (run, merge,
 * report, compare, data synth, import, writeDataset).
 *
 * Rules (docs/scaling.md, "Output folders"):
 * - A marker file (`.marginlab.json`) says a folder is marginlab's own, and of which kind (a run
 *   folder, a dataset, or a compare folder: compare.md/html only). marginlab deletes or replaces
 *   only what it wrote: the entries the marker lists (datasets, merges, compare files) or the names
 *   a run folder is made of (results/, manifest.json and the report files). A file written into a
 *   folder one by one (compare.md in a run folder) replaces a file of that name only when the
 *   marker lists it (OutDir.claimFiles).
 * - A non-empty folder without a marker is refused (`--force` writes into it anyway, replacing only
 *   files with the names marginlab writes, touching nothing else). A folder of another kind (a
 *   dataset as a run's output) is refused always; a folder holding a dataset's manifest.json
 *   (format marginlab-dataset) is a dataset, marker or not. A folder inside a run folder or a dataset
 *   is refused always (enclosingFolder).
 * - An output equal to, inside, or containing an input (dataset, shard, baseline, run folder) is
 *   refused, comparing real paths (symlinks resolved); an output equal to the config's folder too.
 *   `--force` never overrides this.
 * - A folder another live process is writing is refused: a lock file (`.marginlab.lock`, with pid,
 *   host and start time) is taken with an atomic link; a lock of a dead process on this host is
 *   stale and taken over (so is one whose pid now belongs to a process started after the lock was
 *   written, or to this process: a container restarted as pid 1); a lock from another host is
 *   refused unless `--force`.
 */
import { existsSync, linkSync, utimesSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ExitCode, UserError } from '../errors.js';
import { fsError, withFsErrors, type OutSource } from './fs-errors.js';
import { onInterrupt, trackTemp } from './interrupt.js';

export const MARKER_FILE = '.marginlab.json';
export const LOCK_FILE = '.marginlab.lock';

export type OutKind = 'run' | 'dataset' | 'compare';
const OUT_KINDS: readonly OutKind[] = ['run', 'dataset', 'compare'];
const KIND_NAMES: Record<OutKind, string> = { run: 'run folder', dataset: 'dataset', compare: 'compare folder' };

/** a held lock is refreshed this often; a lock of another host older than LOCK_STALE_MS is stale (its process is gone) */
export const LOCK_REFRESH_MS = 10_000;
export const LOCK_STALE_MS = 60_000;

/**
 * a full disk's hint offers --resume (finished results are kept) only for a run folder of a command
 * that has it (run, stress): a dataset or a compare folder is written whole or not at all
 */
const resumeHint = (o: { kind: OutKind; resume?: false }): { resume?: false } => (o.kind === 'run' && o.resume !== false ? {} : { resume: false });

/** The names a run folder is made of (marginlab writes these and nothing else there). */
export const RUN_FOLDER_ENTRIES = ['results', 'manifest.json', 'summary.json', 'runs.csv', 'report.md', 'report.html', 'trades.csv', 'liquidations.csv'] as const;
/** the report files of a run folder (rendered from its results) */
export const RUN_REPORT_ENTRIES: readonly string[] = RUN_FOLDER_ENTRIES.filter((e) => e !== 'results' && e !== 'manifest.json');
/** the two files `compare --out` writes */
export const COMPARE_FILES = ['compare.md', 'compare.html'] as const;
/** names every folder of a kind holds, whatever it was made from (a dataset's data files are named by their series) */
const FOLDER_FILES: Record<OutKind, readonly string[]> = { run: RUN_FOLDER_ENTRIES, dataset: ['manifest.json'], compare: COMPARE_FILES };

export interface NamedPath {
  /** what the path is, for messages: 'dataset', 'shard', 'config folder' */
  label: string;
  path: string;
}

export interface OutDirOptions {
  kind: OutKind;
  /** folders the output must not equal, be inside, or contain */
  inputs?: NamedPath[];
  /** folders the output must not equal (it may be inside them), e.g. the config's folder */
  notEqual?: NamedPath[];
  /** write into a non-empty folder marginlab did not make (and take over another host's lock) */
  force?: boolean;
  /** where the path came from, for the exit code of an unusable path: a flag (64) or the config (78) */
  source?: OutSource;
  /** how the path is named in messages, e.g. '--out', 'output.dir' */
  name?: string;
  /** a non-empty folder without a marker that is acceptable anyway (e.g. an existing dataset for import) */
  accept?: (dir: string, entries: string[]) => boolean;
  /** marginlab folders of these kinds are accepted too, keeping their kind (compare writes into a run folder) */
  alsoInto?: OutKind[];
  /**
   * how the caller forces a write (the messages say it): default 'add --force'; a library function's own words
   * (writeDataset: 'pass { force: true }'); false for a command without a way (import, data download): never suggested
   */
  forceFlag?: boolean | string;
  /** false for a command without --resume writing a run folder (merge, report): a full disk's hint does not offer it */
  resume?: false;
}

interface Marker {
  tool: 'marginlab';
  kind: OutKind;
  /** top-level entries marginlab wrote (replaced or deleted by the next write) */
  entries: string[];
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /** the holder's start, in clock ticks after boot (/proc/<pid>/stat; Linux): a live pid that started at another tick is a later process given the same pid */
  procStart?: string;
}

const isOurTemp = (f: string): boolean => f.startsWith('.') && /\.(tmp|old)$/.test(f);

/**
 * The names of marginlab's temp files and folders: `.<name>.<pid>.<8 hex>.tmp` (a file or folder
 * being written: `.build.…`, `.report.…`, `.<file>.…`, `.lock.…`) and `.<name>.<pid>.<8 hex>.old`
 * (an entry being replaced, a stale lock moved aside).
 */
const OWN_TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.(tmp|old)$/;

/**
 * Remove the temp files and folders a marginlab process that is gone (killed, or interrupted twice)
 * left in `dir`: only names of OWN_TEMP, made before `before` (ms; the lock this process just took),
 * by a process that is not running on this host (dead, or its pid now another process's). An `.old` entry is removed only when the entry it
 * was replaced by exists (otherwise it may be the only copy). Called with the folder's lock held,
 * so no other marginlab process is writing there. Returns the names removed.
 */
export function removeStaleTemps(dir: string, before: number): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const f of names) {
    const m = OWN_TEMP.exec(f);
    if (!m) continue;
    const pid = Number(m[2]);
    const p = join(dir, f);
    try {
      const made = lstatSync(p).mtimeMs;
      if (made >= before) continue;
      // made by a process still running (not this one: what has its pid from before it took the lock
      // is an earlier process's, e.g. a container restarted as pid 1; nor one started after it was made)
      if (pid !== process.pid && runningSince(pid, made)) continue;
      if (m[3] === 'old' && !m[1]!.startsWith('lock.stale') && !existsSync(join(dir, m[1]!))) continue;
      rmSync(p, { recursive: true, force: true });
      removed.push(f);
    } catch {
      /* gone meanwhile, or not ours to remove: leave it */
    }
  }
  return removed;
}

/** The real path of `p`: symlinks of its existing part resolved, the rest appended. */
export function realPathOf(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return tail.length ? join(real, ...tail.reverse()) : real;
    } catch {
      const parent = dirname(head);
      if (parent === head) return abs;
      tail.push(basename(head));
      head = parent;
    }
  }
}

/** true when `inner` equals `outer` or lies inside it (real paths) */
export function isInside(inner: string, outer: string): boolean {
  const r = relative(outer, inner);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

function readMarker(dir: string): Marker | null {
  const p = join(dir, MARKER_FILE);
  if (!existsSync(p)) return null;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as Partial<Marker>;
    if (m.tool !== 'marginlab' || !OUT_KINDS.includes(m.kind as OutKind)) return null;
    return { tool: 'marginlab', kind: m.kind as OutKind, entries: Array.isArray(m.entries) ? m.entries.filter((e): e is string => typeof e === 'string' && !e.includes('/') && !e.includes('\\') && e !== '..' && e !== '.') : [] };
  } catch {
    return null;
  }
}

/** The nearest folder above `real` (a real path; not itself) that is a marginlab run folder or dataset, or null. */
function enclosingFolder(real: string): { path: string; kind: OutKind } | null {
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const kind = readMarker(dir)?.kind ?? (holdsDatasetManifest(dir) ? 'dataset' : null);
    if (kind === 'run' || kind === 'dataset') return { path: dir, kind };
    if (dirname(dir) === dir) return null;
  }
}

/** true when `dir` holds a marginlab dataset's manifest.json (a dataset written before markers, or copied without its marker) */
export function holdsDatasetManifest(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8').replace(/^\uFEFF/, '')) as { format?: unknown }).format === 'marginlab-dataset';
  } catch {
    return false;
  }
}

function writeMarker(dir: string, marker: Marker): void {
  const tmp = join(dir, `.${MARKER_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(marker)}\n`);
    renameSync(tmp, join(dir, MARKER_FILE));
  } finally {
    rmSync(tmp, { force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** the start times (LockInfo.startedAt) of the locks this process took: a lock of its own pid is its own only when listed here */
const ownLocks = new Set<string>();
/** a process started this long after a lock was written is not the one that wrote it (clock ticks and boot-time rounding) */
const PID_REUSE_SLACK_MS = 2_000;

/** When process `pid` started, in clock ticks after boot (the 22nd field of /proc/<pid>/stat), or null where it cannot be told (no /proc: not Linux). */
function procStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (in parentheses, it may hold spaces and parentheses)
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** When process `pid` started (ms UTC; USER_HZ = 100 and /proc/stat's boot time), or null where it cannot be told. */
function processStartMs(pid: number): number | null {
  try {
    const ticks = procStartTicks(pid);
    const boot = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return boot && ticks !== null ? Number(boot[1]) * 1000 + Number(ticks) * 10 : null;
  } catch {
    return null;
  }
}

/**
 * Whether the process that wrote a lock of this host is still running: its pid is alive and is
 * neither this process (a container restarted as pid 1 after its run was killed: the lock is not one
 * this process took) nor a later process given the same pid: one whose start differs from the
 * lock's procStart (exact, whatever the wall clock does), or, for a lock without it (an older
 * marginlab's), one started after the lock was written.
 */
function holderAlive(held: LockInfo): boolean {
  if (held.pid === process.pid) return ownLocks.has(held.startedAt);
  if (held.procStart === undefined) return runningSince(held.pid, Date.parse(held.startedAt));
  if (!pidAlive(held.pid)) return false;
  const now = procStartTicks(held.pid);
  return now === null || now === held.procStart;
}

/** whether process `pid` of this host is alive and was running at `atMs` already (not a later process given the same pid) */
function runningSince(pid: number, atMs: number): boolean {
  if (!pidAlive(pid)) return false;
  const started = processStartMs(pid);
  return started === null || !Number.isFinite(atMs) || started <= atMs + PID_REUSE_SLACK_MS;
}

/** A lock is stale when its process is gone (this host: dead, or its pid reused) or it was not refreshed for LOCK_STALE_MS (another host). */
function lockIsStale(held: LockInfo, lockPath: string): boolean {
  if (held.host === hostname()) return !holderAlive(held);
  try {
    return Date.now() - statSync(lockPath).mtimeMs > LOCK_STALE_MS;
  } catch {
    return true; // released meanwhile
  }
}

/**
 * The marginlab process writing `dir` now (its live lock), or null: no lock, or a stale one. For a
 * command that reads a folder (compare): a folder being written is not complete yet.
 */
export function liveLock(dir: string): LockInfo | null {
  const lockPath = join(dir, LOCK_FILE);
  const held = readLock(lockPath);
  return held !== null && !lockIsStale(held, lockPath) ? held : null;
}

/** How a lock holder is named in messages: pid, host, start time and command. */
export const lockHolder = (held: LockInfo): string => `pid ${held.pid} on ${held.host}, since ${held.startedAt}: ${held.command}`;

function readLock(path: string): LockInfo | null {
  try {
    const l = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof l.pid !== 'number' || typeof l.host !== 'string') return null;
    return { pid: l.pid, host: l.host, startedAt: String(l.startedAt ?? '?'), command: String(l.command ?? '?'), ...(typeof l.procStart === 'string' ? { procStart: l.procStart } : {}) };
  } catch {
    return null;
  }
}

export class OutDir {
  readonly path: string;
  readonly kind: OutKind;
  /** true when this invocation created the folder */
  readonly created: boolean;
  /** entries the marker listed before this invocation (what marginlab may replace or delete) */
  readonly previous: readonly string[];
  /** the entries the marker lists now (what marginlab wrote; kept up to date by replaceEntries and claimFiles) */
  private own: string[];
  private readonly lockPath: string;
  private readonly lockText: string;
  private released = false;
  private readonly onExit = () => this.release();
  /** what an interrupt (Ctrl-C) says is left of the folder; default: as it was before, or not created */
  interruptNote: string | null = null;
  private readonly temps = new Map<string, () => void>();
  private readonly offInterrupt: () => void;
  /** the lock's mtime is refreshed while held: a lock of another host not refreshed for LOCK_STALE_MS is stale */
  private readonly heartbeat: NodeJS.Timeout;
  private readonly name: string;
  private readonly source: OutSource;
  /** the folder existed without a marker and this invocation wrote one (a dataset from before markers, a folder taken by force) */
  markerAdded = false;
  /** the folders above `path` this invocation created for it, outermost first: taken back with it by discard() */
  madeAbove: string[] = [];
  /** what the folder held when it was opened (its entries; a run folder's results/ too): a failure that changed none of it takes back a marker it added */
  openedWith: string | null = null;
  /** this invocation replaced or claimed entries (replaceEntries, claimFiles) */
  private wrote = false;
  /** a non-empty folder marginlab did not make, written into only because of `force`: it stays the user's */
  forced = false;
  /** false: the command writing it has no --resume (OutDirOptions.resume) */
  resume?: false;
  /** the folder stopped being this command's while it wrote it (lostError) */
  private lost = false;

  /** @internal use openOutDir */
  constructor(path: string, kind: OutKind, created: boolean, previous: string[], own: string[], lockPath: string, lockText: string, name: string, source: OutSource) {
    this.path = path;
    this.kind = kind;
    this.created = created;
    this.previous = previous;
    this.own = own;
    this.lockPath = lockPath;
    this.lockText = lockText;
    this.name = name;
    this.source = source;
    process.once('exit', this.onExit);
    this.offInterrupt = onInterrupt(() => {
      const gone = this.discard();
      this.release();
      // a folder this command created and left empty is gone: its note (results kept there) no longer applies
      return gone ? `${this.path} was not created` : (this.interruptNote ?? `${this.path} is as it was before`);
    });
    this.heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(lockPath, now, now);
      } catch {
        /* the folder went away: nothing to keep */
      }
    }, LOCK_REFRESH_MS);
    this.heartbeat.unref();
  }

  /** A fresh temp folder inside the output folder (removed by replaceEntries or discardTemp). */
  tempDir(): string {
    const tmp = join(this.path, `.build.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    this.fs('create a temp folder in', () => mkdirSync(tmp));
    this.temps.set(tmp, trackTemp(tmp));
    return tmp;
  }

  /**
   * Move every entry of `tmp` into the folder (each one replaces the entry of that name), delete
   * the entries the previous marker listed that the new set does not have, write the marker, and
   * remove `tmp`. Nothing else in the folder is touched.
   */
  replaceEntries(tmp: string): void {
    const entries = readdirSync(tmp).sort();
    const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
    this.wrote = true;
    this.fs('write into', () => {
      for (const e of entries) {
        const dest = join(this.path, e);
        if (existsSync(dest) || isSymlink(dest)) {
          const old = join(this.path, `.${e}.${tag}.old`);
          renameSync(dest, old);
          renameSync(join(tmp, e), dest);
          rmSync(old, { recursive: true, force: true });
        } else renameSync(join(tmp, e), dest);
      }
      for (const e of this.previous) if (!entries.includes(e)) rmSync(join(this.path, e), { recursive: true, force: true });
      // what marginlab wrote beside the replaced set stays listed (compare.md in a run folder)
      const kept = this.own.filter((e) => !entries.includes(e) && !this.previous.includes(e) && (existsSync(join(this.path, e)) || isSymlink(join(this.path, e))));
      this.own = [...entries, ...kept].sort();
      writeMarker(this.path, { tool: 'marginlab', kind: this.kind, entries: this.own });
    });
    this.removeTemp(tmp);
  }

  /**
   * Before files are written into the folder one by one (compare.md and compare.html, see
   * writeFilesAtomic): an existing file of one of these names is replaced only when the marker
   * lists it (marginlab wrote it) or with `force`; else a UserError (64) names it. A folder of such
   * a name is refused always. The names are then listed in the marker. `writtenBy(path)` may
   * recognise a file an earlier marginlab version wrote before it listed such files (by content).
   */
  claimFiles(names: readonly string[], force = false, writtenBy?: (path: string) => boolean): void {
    const usage = this.source === 'config' ? ExitCode.CONFIG : ExitCode.USAGE;
    for (const n of names) {
      const p = join(this.path, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // not there
      }
      if (st.isDirectory()) throw new UserError(`${this.name} ${this.path} holds a folder named ${n}, where marginlab writes a file; move it away or choose another folder`, usage);
      if (!force && !this.own.includes(n) && !(st.isFile() && writtenBy?.(p))) {
        throw new UserError(`${this.name} ${this.path} holds a ${n} that marginlab did not write; move it away, choose another folder, or add --force to replace it`, usage);
      }
    }
    this.own = [...new Set([...this.own, ...names])].sort();
    this.wrote = true;
    this.fs('write into', () => writeMarker(this.path, { tool: 'marginlab', kind: this.kind, entries: this.own }));
  }

  /**
   * Delete the files of these names that marginlab wrote into the folder (the marker lists them) and
   * unlist them; files of these names it did not write stay. A run or a merge that replaces a run
   * folder's results drops its compare.md and compare.html: they compared results no longer there.
   */
  dropOwnFiles(names: readonly string[]): void {
    const drop = names.filter((n) => this.own.includes(n));
    if (drop.length === 0) return;
    this.fs('write into', () => {
      for (const n of drop) {
        const st = lstatSync(join(this.path, n), { throwIfNoEntry: false });
        // files only: a folder of such a name is not one marginlab wrote
        if (st && (st.isFile() || st.isSymbolicLink())) rmSync(join(this.path, n), { force: true });
      }
      this.own = this.own.filter((e) => !drop.includes(e));
      this.wrote = true;
      writeMarker(this.path, { tool: 'marginlab', kind: this.kind, entries: this.own });
    });
  }

  private removeTemp(tmp: string): void {
    rmSync(tmp, { recursive: true, force: true });
    this.temps.get(tmp)?.();
    this.temps.delete(tmp);
  }

  /**
   * After a failure or an interrupt: remove a temp folder (without `tmp`: every temp folder of
   * tempDir not yet removed), and the output folder itself if this invocation created it and it
   * holds nothing else. Returns true when the folder was removed.
   */
  discard(tmp?: string): boolean {
    for (const t of tmp ? [tmp] : [...this.temps.keys()]) this.removeTemp(t);
    if (this.lost) return false;
    if (!this.created) {
      // a marker this invocation added to a folder that had none goes too, while it records nothing written, or
      // nothing was written (a run refused by --force into a user's folder left it marked as marginlab's, and the
      // next command without --force replaced the user's report.md)
      if (this.markerAdded && (this.own.length === 0 || (!this.wrote && this.openedWith !== null && folderState(this.path, this.kind) === this.openedWith)))
        rmSync(join(this.path, MARKER_FILE), { force: true });
      return false;
    }
    try {
      const left = readdirSync(this.path).filter((f) => f !== LOCK_FILE && f !== MARKER_FILE && !isOurTemp(f));
      if (left.length === 0) {
        this.release();
        rmSync(join(this.path, MARKER_FILE), { force: true });
        rmdirSync(this.path);
        // and the folders made for it (a failed run left an empty reports/, or deep/nested/ of --out deep/nested/out)
        removeEmpty(this.madeAbove);
        return true;
      }
    } catch {
      /* leave it */
    }
    return false;
  }

  /**
   * Throws (70) when the folder is no longer this command's while it writes it: deleted (by a user,
   * a cleanup job), its lock gone or another process's, or one of `sub` (folders inside it the
   * command writes into, e.g. results/) gone. A command must stop then, never recreate the folder:
   * one without its marker and lock would not be recognised later, and its report would claim
   * success. Checked before each write of a long command (each result of a run) and at its end.
   */
  assertHeld(...sub: string[]): void {
    const lost = this.lostError(sub);
    if (lost) throw lost;
  }

  /** The error of assertHeld, or null while the folder is this command's. */
  lostError(sub: readonly string[] = []): UserError | null {
    // given back (the command is done with it): its lock is gone by design
    if (this.released) return null;
    let lock: string | null = null;
    try {
      lock = readFileSync(this.lockPath, 'utf8');
    } catch {
      /* gone */
    }
    let what: string | null = null;
    if (!existsSync(this.path)) what = 'was deleted';
    else if (lock === null) what = `lost its lock ${LOCK_FILE} (deleted)`;
    else if (lock !== this.lockText) {
      const other = readLock(this.lockPath);
      what = `was taken over by another marginlab process${other ? ` (${lockHolder(other)})` : ''}: its lock ${LOCK_FILE} was deleted or replaced`;
    } else {
      const gone = sub.find((s) => !existsSync(join(this.path, s)));
      if (gone !== undefined) what = `lost its ${gone}/ (deleted)`;
    }
    if (what === null) return null;
    // from now on discard() removes only this command's temp folders: the folder may be another's
    this.lost = true;
    const again = this.kind === 'run' && this.resume !== false && existsSync(this.path) ? 'run the command again with --resume to finish it' : 'run the command again';
    return new UserError(
      `${this.name} ${this.path} ${what} while marginlab was writing it (a user or a cleanup job?): stopped, nothing more is written there; make sure nothing else removes it, then ${again}; this is not a marginlab bug`,
      ExitCode.INTERNAL,
    );
  }

  /** Give the lock back (idempotent; also done at process exit). */
  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    process.off('exit', this.onExit);
    this.offInterrupt();
    try {
      if (readFileSync(this.lockPath, 'utf8') === this.lockText) unlinkSync(this.lockPath);
    } catch {
      /* already gone */
    }
  }

  private fs<T>(action: string, fn: () => T): T {
    return withFsErrors({ path: this.path, action, role: 'output', source: this.source, ...resumeHint(this) }, fn);
  }

  toString(): string {
    return `${this.name} ${this.path}`;
  }
}

const isSymlink = (p: string): boolean => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/**
 * The first symbolic link on the way to `path` (itself included) that leads nowhere: to nothing (`target`: where it
 * points, as written; `end`: where its chain of links ends, '' when a file is on the way) or round in a loop. null when
 * there is none (a part that does not exist yet is made later).
 */
function brokenLinkOn(path: string): { at: string; target: string; end: string; loop: boolean } | null {
  const parts = resolve(path).split(sep);
  let at = parts[0] === '' ? sep : parts[0]!;
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    at = join(at, part);
    if (!isSymlink(at)) {
      if (!existsSync(at)) return null;
      continue;
    }
    try {
      statSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') return { at, target: '', end: '', loop: true };
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // where the link says, and where its chain of links ends (the folder to make: a link to a link to nothing)
        let target = '';
        let end = at;
        try {
          target = readlinkSync(at);
          for (let hops = 0; hops < 40 && isSymlink(end); hops++) end = resolve(dirname(end), readlinkSync(end));
        } catch {
          /* unreadable: named without it */
        }
        return { at, target, end: code === 'ENOTDIR' ? '' : end, loop: false };
      }
      return null;
    }
  }
  return null;
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops forever where a parent exists but a
 * child cannot be made with ENOENT (e.g. under /proc); here the first failure is thrown. Returns the
 * folders it made, outermost first; `made`, when given, gets each as it is made (a caller that
 * takes back what it made after a later failure, this one's included).
 */
export function mkdirs(path: string, made?: string[]): string[] {
  const missing: string[] = [];
  let p = resolve(path);
  while (!existsSync(p)) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  const mine: string[] = [];
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
      mine.push(dir);
      made?.push(dir);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  return mine;
}

/** Remove folders made by mkdirs (outermost first), innermost first, while they are empty. */
function removeEmpty(made: readonly string[]): void {
  for (const d of [...made].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/** Check an output folder against the rules above, create it, take its lock and mark it. */
/**
 * The hint for a path written with backslashes on a system whose folder separator is '/' (a Windows path copied into
 * a config or a flag): `reports\\win3` made a folder of that one name, `data\\mine` was "not found". null otherwise.
 */
export function backslashHint(p: string): string | null {
  if (process.platform === 'win32' || !p.includes('\\')) return null;
  // a drive (C:\reports, or it resolved: /home/me/C:\reports) names no folder here: the rest of the path, as a relative one
  const drive = /(?:^|\/)([A-Za-z]:)\\+(.*)$/.exec(p);
  if (drive) return `'${drive[1]}' is a Windows drive, not a folder on this system: give a path of this system (e.g. '${drive[2]!.replaceAll('\\', '/') || '.'}')`;
  return `'\\' is not a folder separator on this system (a Windows path?): write '${p.replaceAll('\\', '/')}'`;
}

export function openOutDir(target: string, opts: OutDirOptions): OutDir {
  const name = opts.name ?? '--out';
  const source = opts.source ?? 'flag';
  const usage = source === 'config' ? ExitCode.CONFIG : ExitCode.USAGE;
  const slash = backslashHint(target);
  if (slash) throw new UserError(`${name} ${target}: ${slash}`, usage);
  const path = resolve(target);
  const real = realPathOf(path);
  for (const inp of opts.inputs ?? []) {
    const r = realPathOf(inp.path);
    if (isInside(real, r)) {
      throw new UserError(`${name} ${path} ${real === r ? 'is' : 'is inside'} the ${inp.label} ${inp.path}, an input of this command; choose an output folder outside it`, usage);
    }
    if (isInside(r, real)) {
      throw new UserError(`${name} ${path} contains the ${inp.label} ${inp.path}, an input of this command; choose an output folder outside it`, usage);
    }
  }
  // a folder inside a run folder (its results/) or a dataset is part of it: a run written into results/ left a
  // manifest.json there that broke the run folder's report, and its results/ a folder the outer run does not know
  const outer = enclosingFolder(real);
  if (outer !== null) throw new UserError(`${name} ${path} is inside the marginlab ${KIND_NAMES[outer.kind]} ${outer.path}, whose files it would mix with its own; choose a folder outside it`, usage);
  for (const ne of opts.notEqual ?? []) {
    if (realPathOf(ne.path) !== real) continue;
    // a folder (the config's): a folder inside it; a file (an input): a folder beside it
    const isDir = (() => { try { return statSync(path).isDirectory(); } catch { return true; } })();
    const eg = isDir ? join(path, 'reports', 'out') : join(dirname(path), `${basename(path).replace(/\.[^.]*$/, '')}-${opts.kind}`);
    throw new UserError(`${name} ${path} is the ${ne.label}; choose a folder of its own (e.g. ${eg})`, usage);
  }
  const ctx = { path, role: 'output' as const, source, ...resumeHint(opts) };
  let created = false;
  let made: string[] = [];
  // a symbolic link to nothing on the way (the folder, or one above it): creating the folder failed with ENOENT or ELOOP,
  // read as "the file system will not create it there"
  const broken = brokenLinkOn(path);
  if (broken !== null) {
    const at = broken.at === path ? `${name} ${path}` : `${name} ${path}: ${broken.at}`;
    throw new UserError(
      broken.loop
        ? `${at} is a symbolic link that leads back to itself (a loop); choose another ${name}`
        : broken.end === ''
          ? `${at} is a symbolic link to '${broken.target}', which runs through a file, not a folder; choose another ${name}`
          : `${at} is a symbolic link to '${broken.target}', where there is no folder; create ${broken.end === resolve(dirname(broken.at), broken.target) ? 'that folder' : `the folder it leads to, ${broken.end}`}, or choose another ${name}`,
      usage,
    );
  }
  if (existsSync(path)) {
    if (!withFsErrors({ ...ctx, action: 'use the output folder' }, () => statSync(path)).isDirectory()) {
      throw new UserError(`${name} ${path} is a file, not a folder; choose a folder`, usage);
    }
  } else {
    made = withFsErrors({ ...ctx, action: 'create the output folder' }, () => mkdirs(path));
    created = true;
  }
  const lockPath = join(path, LOCK_FILE);
  const lockText = acquireLock(path, lockPath, name, usage, !!opts.force, ctx, forceHow(opts));
  const release = () => {
    try {
      if (readFileSync(lockPath, 'utf8') === lockText) unlinkSync(lockPath);
    } catch {
      /* gone */
    }
  };
  try {
    const entries = readdirSync(path).filter((f) => f !== LOCK_FILE && f !== MARKER_FILE && !isOurTemp(f));
    const marker = readMarker(path);
    // a dataset's manifest.json makes a folder a dataset, marker or not
    const found: OutKind | null = marker?.kind ?? (entries.includes('manifest.json') && holdsDatasetManifest(path) ? 'dataset' : null);
    const accepted = [opts.kind, ...(opts.alsoInto ?? [])];
    if (found !== null && !accepted.includes(found)) {
      throw new UserError(`${name} ${path} is a marginlab ${KIND_NAMES[found]}, not a ${accepted.map((k) => KIND_NAMES[k]).join(' or ')}; choose another folder`, usage);
    }
    const kind = found ?? opts.kind;
    let previous: string[] = [];
    let forced = false;
    if (marker) {
      previous = marker.kind === 'run' ? [...RUN_FOLDER_ENTRIES] : marker.entries;
    } else if (entries.length > 0) {
      const legacyRun = kind === 'run' && entries.every((e) => (RUN_FOLDER_ENTRIES as readonly string[]).includes(e)) && entries.includes('manifest.json');
      if (legacyRun) previous = [...RUN_FOLDER_ENTRIES];
      else if (opts.accept?.(path, entries)) previous = [];
      else if (opts.force) forced = true;
      else {
        // the user's files that --force would replace: those named as the files this kind of folder holds (a web
        // app's manifest.json under a dataset, a report.md under a run), said before anyone adds it
        const clash = entries.filter((e) => (FOLDER_FILES[kind] as readonly string[]).includes(e));
        const replaced = clash.length ? `; it would replace your ${clash.join(', ')}, ${clash.length === 1 ? 'a name' : 'names'} marginlab writes there` : '';
        throw new UserError(
          `${name} ${path} is not empty and was not written by marginlab (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries.slice(0, 3).join(', ')}); ` +
            (forceHow(opts) === null
              ? 'choose a new or empty folder'
              : `choose a new or empty folder, or ${forceHow(opts)} to write into it (only the files marginlab writes are replaced, nothing else is touched${replaced})`),
          usage,
        );
      }
    }
    // what an earlier marginlab process that was killed left here (the lock is ours, so nobody is
    // writing; only in a folder accepted above as marginlab's or as this command's to write into)
    try {
      const since = statSync(lockPath).mtimeMs;
      removeStaleTemps(path, since);
      if (kind === 'run') removeStaleTemps(join(path, 'results'), since);
      // a dataset's series may sit in sub-folders (a manifest may list data/BTCUSDT-candles-1h.arrow),
      // and an import writes its temps beside them
      if (kind === 'dataset') {
        for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith('.')) removeStaleTemps(join(path, e.name), since);
      }
    } catch {
      /* nothing to clean */
    }
    const own = marker?.entries ?? (kind === 'run' ? [...RUN_FOLDER_ENTRIES] : []);
    const hadMarker = existsSync(join(path, MARKER_FILE));
    withFsErrors({ ...ctx, action: 'write into the output folder' }, () => writeMarker(path, { tool: 'marginlab', kind, entries: own }));
    const out = new OutDir(path, kind, created, previous, own, lockPath, lockText, name, source);
    if (opts.resume === false) out.resume = false;
    out.markerAdded = !created && !hadMarker;
    out.madeAbove = made.filter((d) => d !== path);
    if (out.markerAdded) out.openedWith = folderState(path, kind);
    out.forced = forced;
    return out;
  } catch (err) {
    release();
    if (created) {
      try {
        rmSync(join(path, MARKER_FILE), { force: true });
        rmdirSync(path);
        removeEmpty(made.filter((d) => d !== path));
      } catch {
        /* not empty */
      }
    }
    throw err;
  }
}

/** the names a folder holds (lock, marker and temp files aside; a run folder's results/ too), to tell whether a command changed it */
function folderState(path: string, kind: OutKind): string | null {
  try {
    const names = (dir: string) => readdirSync(dir).filter((f) => f !== LOCK_FILE && f !== MARKER_FILE && !isOurTemp(f)).sort();
    const top = names(path);
    let results: string[] = [];
    if (kind === 'run' && top.includes('results')) {
      try {
        results = names(join(path, 'results'));
      } catch {
        /* not a folder */
      }
    }
    return JSON.stringify([top, results]);
  } catch {
    return null;
  }
}

/** how the caller forces a write, in the messages' words (OutDirOptions.forceFlag); null: it cannot */
const forceHow = (opts: OutDirOptions): string | null => (opts.forceFlag === false ? null : typeof opts.forceFlag === 'string' ? opts.forceFlag : 'add --force');

function acquireLock(dir: string, lockPath: string, name: string, usage: 64 | 78, force: boolean, ctx: { path: string; role: 'output'; source: OutSource }, how: string | null): string {
  const procStart = procStartTicks(process.pid);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(2).join(' ').slice(0, 200), ...(procStart !== null ? { procStart } : {}) };
  const text = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = join(dir, `.lock.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      withFsErrors({ ...ctx, action: 'write into the output folder' }, () => writeFileSync(tmp, text));
      try {
        linkSync(tmp, lockPath); // atomic: fails when a lock exists
        ownLocks.add(info.startedAt);
        return text;
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw fsError(err, { ...ctx, action: 'lock the output folder' });
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    let current: string;
    try {
      current = readFileSync(lockPath, 'utf8');
    } catch {
      continue; // released meanwhile
    }
    const held = readLock(lockPath);
    const sameHost = held?.host === hostname();
    const stale = held !== null && lockIsStale(held, lockPath);
    const foreignTakeover = held !== null && !sameHost && force;
    if (held !== null && !stale && !foreignTakeover) {
      throw new UserError(
        `${name} ${dir} is being written by another marginlab process (${lockHolder(held)}); ` +
          (sameHost
            ? 'wait for it to finish, or choose another folder'
            : `wait for it to finish or choose another folder; if that process is gone, ${how ? `${how} to take the lock over (or delete ${lockPath})` : `delete ${lockPath}`}`),
        usage,
      );
    }
    if (held === null) {
      // unreadable lock: a crash while writing one is impossible (it is linked whole), so it is not ours to judge
      throw new UserError(`${name} ${dir} has a lock file ${lockPath} marginlab cannot read; if no marginlab process is writing the folder, delete it`, usage);
    }
    // stale: move it aside, then check it was the one judged (another process may have taken it over meanwhile)
    const aside = join(dir, `.lock.stale.${process.pid}.${randomBytes(4).toString('hex')}.old`);
    try {
      renameSync(lockPath, aside);
    } catch {
      continue;
    }
    const moved = readFileSync(aside, 'utf8');
    if (moved !== current) {
      try {
        linkSync(aside, lockPath);
      } catch {
        /* someone holds it now; the next attempt sees it */
      }
    }
    rmSync(aside, { force: true });
  }
  throw new UserError(`${name} ${dir}: could not take the lock ${lockPath} (other processes keep taking it); try again`, usage);
}

/** Build a folder: `build` fills a temp folder inside the output folder, whose entries then replace those of the same names (see OutDir.replaceEntries); on failure nothing of the folder changes. */
export async function writeOutDir<T>(target: string | OutDir, opts: OutDirOptions, build: (tmpDir: string) => Promise<T> | T): Promise<T> {
  const out = typeof target === 'string' ? openOutDir(target, opts) : target;
  let tmp: string | undefined;
  try {
    tmp = out.tempDir();
    const result = await build(tmp);
    out.replaceEntries(tmp);
    return result;
  } catch (err) {
    // the folder deleted (or its lock taken) while it was built: that is what failed, not the write it broke
    const lost = out.lostError();
    out.discard(tmp);
    if (lost) throw lost;
    // an errno error about a path of the output folder is the output's (also as the destination of a
    // copy: copyFileSync names its source in `path`, e.g. a full disk while merge copies results); others (inputs) pass through
    const e = err as { path?: unknown; dest?: unknown } | null;
    const at = [e?.path, e?.dest].find((p): p is string => typeof p === 'string' && isInside(resolve(p), out.path));
    if (at !== undefined) throw fsError(err, { path: at, action: 'write', role: 'output', source: opts.source ?? 'flag', ...resumeHint(opts) });
    throw err;
  } finally {
    if (typeof target === 'string') out.release();
  }
}
