/**
 * The commit a folder's git work tree is at (a run manifest's `gitCommit`), read from the
 * repository's files, as `git rev-parse HEAD` would give it, without starting a process.
 *
 * Why not `git rev-parse HEAD`: a run asks after its data is loaded, and starting a program from a
 * process holding a gigabyte of columns forks that process first. The fork shows the whole of the
 * parent's resident memory as its own until the program replaces it (bench:sweep, which adds the
 * CLI's children to its peak, counted ≈ 790 MiB twice in about one repeat of ten), copies the
 * parent's page tables, and fails outright where memory may not be overcommitted. It also needed a
 * `git` on PATH and a repository owned by the user running it.
 *
 * What is read, as git lays it out: the `.git` folder (or the folder a `.git` file names: a linked
 * worktree, a submodule, `--separate-git-dir`) found walking up from the folder, or the folder
 * itself when it is a bare repository's, or `$GIT_DIR`; HEAD, then the ref it names (followed
 * through symbolic refs), loose under the common folder (a linked worktree's `commondir`) or in
 * `packed-refs`. A repository using the reftable format is the one case handed to
 * `git rev-parse HEAD`. Anything else unreadable — no repository, a branch without commits, a
 * damaged file — is null, as a failing `git rev-parse` was.
 *
 * Checked against git 2.39's `rev-parse --verify -q HEAD` (test/git-head.test.ts). Knowingly not
 * followed: the ownership check (safe.directory: a repository of another user is read, where git
 * refused), GIT_COMMON_DIR, GIT_CEILING_DIRECTORIES and GIT_DISCOVERY_ACROSS_FILESYSTEM (the walk
 * goes up to /), the repository's object format (40 or 64 hex digits are taken in either), and a
 * symbolic ref to a one-level name outside refs/ (null here).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** a SHA-1 or SHA-256 object name (as git prints it: lower case) */
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The object name a ref file (or a packed-refs line) starts with, as git's `parse_oid_hex`: 64 or
 * 40 hex digits of either case, then the end or white space (git ignores what follows); null
 * otherwise. Which of the two lengths the repository uses is not read from its config.
 */
function leadingObjectId(s: string): string | null {
  const m = /^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40})(?=\s|$)/.exec(s);
  return m ? m[0].toLowerCase() : null;
}

/** how many refs are read from HEAD to the object name (git's SYMREF_MAXDEPTH: HEAD and 4 more) */
const MAX_SYMREF_DEPTH = 5;

/** a regular file's text (a FIFO, whose read would wait for a writer forever, or a device is none), null when unreadable */
function text(path: string): string | null {
  try {
    return statSync(path).isFile() ? readFileSync(path, 'utf8') : null;
  } catch {
    return null;
  }
}

/** the path's stat, undefined when it cannot be read */
function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

const isDirectory = (path: string): boolean => statOf(path)?.isDirectory() === true;

/** the common git directory of `gitDir` (a linked worktree's `commondir`, else itself) */
function commonDirOf(gitDir: string): string {
  const common = text(join(gitDir, 'commondir'));
  const line = common === null ? '' : common.replace(/[\r\n]+$/, '');
  return line !== '' ? resolve(gitDir, line) : gitDir;
}

/**
 * Whether `dir` is a git directory, as git's `is_git_directory`: a HEAD that names a ref under
 * refs/ or holds an object name (an unreadable one does not), and objects/ and refs/ in its common
 * directory. A folder failing this is passed over while walking up, as git does.
 */
function isGitDir(dir: string): boolean {
  const head = text(join(dir, 'HEAD'));
  if (head === null) return false;
  const sym = /^ref:\s*/.exec(head);
  if (sym ? !head.slice(sym[0].length).startsWith('refs/') : !/^[0-9a-fA-F]{40}/.test(head)) return false;
  const common = commonDirOf(dir);
  return isDirectory(join(common, 'objects')) && isDirectory(join(common, 'refs'));
}

/**
 * The git directory a `.git` file names, as git's `read_gitfile`: "gitdir: <path>" on its first
 * line (trailing CR/LF dropped), relative to the file's folder; null for any other content or a
 * target that is not a git directory (git stops there with an error, it does not walk on).
 */
function gitFileTarget(file: string): string | null {
  const link = text(file);
  if (link === null || !link.startsWith('gitdir: ')) return null;
  const path = link.slice('gitdir: '.length).replace(/[\r\n]+$/, '');
  if (path === '' || /[\r\n]/.test(path)) return null;
  const target = resolve(dirname(file), path);
  return isGitDir(target) ? target : null;
}

/**
 * The git directory of the repository whose work tree (or, for a bare repository, whose git
 * directory) holds `cwd`, or null: `$GIT_DIR` (a folder or a `.git` file) when set, else the first
 * folder from `cwd` up with a `.git` folder or file, or that is a git directory itself (bare).
 */
export function gitDirOf(cwd: string): string | null {
  const fromEnv = process.env.GIT_DIR;
  if (fromEnv) {
    const named = resolve(cwd, fromEnv);
    if (isDirectory(named)) return isGitDir(named) ? named : null;
    return gitFileTarget(named);
  }
  let dir = resolve(cwd);
  for (;;) {
    const dot = join(dir, '.git');
    const st = statOf(dot);
    if (st?.isDirectory()) {
      if (isGitDir(dot)) return dot;
    } else if (st?.isFile()) {
      return gitFileTarget(dot);
    }
    if (isGitDir(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * A ref name this reader looks up: HEAD, or a name under refs/ git's `check_refname_format` accepts
 * (no empty, `.`-led or `.lock`-ended part, no `..`, `@{`, control characters, space, ~ ^ : ? * [ \\,
 * no trailing `.`). Git refuses to follow a symbolic ref to any other name, so this does too.
 */
function validRefName(name: string): boolean {
  if (name === 'HEAD') return true;
  if (!name.startsWith('refs/') || name.endsWith('.') || name.includes('..') || name.includes('@{')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** refs kept per worktree (in the worktree's own git directory), as git's `is_per_worktree_ref` */
function perWorktree(name: string): boolean {
  return name === 'HEAD' || name.startsWith('refs/bisect/') || name.startsWith('refs/worktree/') || name.startsWith('refs/rewritten/');
}

function packedRef(commonDir: string, name: string): string | null {
  const packed = text(join(commonDir, 'packed-refs'));
  if (packed === null) return null;
  for (const line of packed.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const sp = line.indexOf(' ');
    if (sp > 0 && line.slice(sp + 1).trimEnd() === name) return leadingObjectId(line);
  }
  return null;
}

function resolveRef(gitDir: string, commonDir: string, name: string, depth: number): string | null {
  if (depth >= MAX_SYMREF_DEPTH || !validRefName(name)) return null;
  const loose = text(join(perWorktree(name) ? gitDir : commonDir, name));
  if (loose !== null) {
    const sym = /^ref:\s*/.exec(loose);
    if (sym) return resolveRef(gitDir, commonDir, loose.slice(sym[0].length).trimEnd(), depth + 1);
    return leadingObjectId(loose);
  }
  return perWorktree(name) ? null : packedRef(commonDir, name);
}

/**
 * The commit HEAD of the repository holding `cwd` points at (full object name), or null when
 * `cwd` is in no repository, its branch has no commit yet, or its files cannot be read.
 */
export function gitCommit(cwd: string): string | null {
  const gitDir = gitDirOf(cwd);
  if (gitDir === null) return null;
  const commonDir = commonDirOf(gitDir);
  if (existsSync(join(commonDir, 'reftable'))) return gitRevParse(cwd);
  return resolveRef(gitDir, commonDir, 'HEAD', 0);
}

/** `git rev-parse HEAD` in `cwd` (the reftable format only), null when it fails */
function gitRevParse(cwd: string): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return OBJECT_ID.test(out) ? out : null;
  } catch {
    return null;
  }
}
