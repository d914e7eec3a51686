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
 * worktree, a submodule, `--separate-git-dir`) found walking up from the folder, or `$GIT_DIR`;
 * HEAD, then the ref it names (followed through symbolic refs), loose under the common folder (a
 * linked worktree's `commondir`) or in `packed-refs`. A repository using the reftable format is the
 * one case handed to `git rev-parse HEAD`. Anything else unreadable — no repository, a branch
 * without commits, a damaged file — is null, as a failing `git rev-parse` was.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** a SHA-1 or SHA-256 object name */
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** how many symbolic refs are followed (git stops at 5) */
const MAX_SYMREF_DEPTH = 5;

function text(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** a git directory has a HEAD (git also checks objects/ and refs/: HEAD is the part this reads) */
function looksLikeGitDir(dir: string): boolean {
  return text(join(dir, 'HEAD')) !== null;
}

/** The git directory of the repository whose work tree holds `cwd`, or null. */
export function gitDirOf(cwd: string): string | null {
  const fromEnv = process.env.GIT_DIR;
  if (fromEnv) return looksLikeGitDir(resolve(cwd, fromEnv)) ? resolve(cwd, fromEnv) : null;
  let dir = resolve(cwd);
  for (;;) {
    const dot = join(dir, '.git');
    if (isDirectory(dot)) {
      if (looksLikeGitDir(dot)) return dot;
    } else {
      const link = text(dot);
      if (link !== null) {
        // "gitdir: <path>", relative to the folder holding the .git file
        const m = /^gitdir:[ \t]*(.+?)[ \t\r]*$/m.exec(link);
        const target = m ? resolve(dir, m[1]!) : null;
        return target !== null && looksLikeGitDir(target) ? target : null;
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** a ref name this reader may look up as a path (no `..`, no absolute path, nothing odd) */
function safeRefName(name: string): boolean {
  return (name === 'HEAD' || name.startsWith('refs/')) && !name.split('/').some((part) => part === '' || part === '.' || part === '..') && !/[\0\\]/.test(name);
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
    if (sp > 0 && line.slice(sp + 1).trimEnd() === name) {
      const id = line.slice(0, sp);
      return OBJECT_ID.test(id) ? id : null;
    }
  }
  return null;
}

function resolveRef(gitDir: string, commonDir: string, name: string, depth: number): string | null {
  if (depth > MAX_SYMREF_DEPTH || !safeRefName(name)) return null;
  const loose = text(join(perWorktree(name) ? gitDir : commonDir, name));
  if (loose !== null) {
    const value = loose.trim();
    if (value.startsWith('ref:')) return resolveRef(gitDir, commonDir, value.slice(4).trim(), depth + 1);
    return OBJECT_ID.test(value) ? value : null;
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
  const common = text(join(gitDir, 'commondir'));
  const commonDir = common !== null && common.trim() !== '' ? resolve(gitDir, common.trim()) : gitDir;
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
