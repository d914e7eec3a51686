/**
 * A run manifest's gitCommit is read from the repository's files (src/util/git-head.ts), without
 * starting `git`: every case is compared with what `git rev-parse HEAD` says in the same folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitCommit, gitDirOf } from '../src/util/git-head.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'marginlab-git-head-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** git with a fixed identity and no user or system configuration */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: gitEnv,
  }).toString().trim();
}

const gitEnv: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_INDEX_FILE']) delete gitEnv[k];

function revParse(cwd: string): string | null {
  try {
    return git(cwd, 'rev-parse', '--verify', '-q', 'HEAD');
  } catch {
    return null;
  }
}

let n = 0;
function repo(commits = 1): string {
  const dir = join(root, `r${n++}`);
  mkdirSync(dir);
  git(dir, 'init', '-q');
  for (let i = 0; i < commits; i++) git(dir, 'commit', '-q', '--allow-empty', '-m', `c${i}`);
  return dir;
}

describe('gitCommit reads HEAD as git rev-parse does', () => {
  it('on a branch, from the work tree and from a folder below it', () => {
    const dir = repo(2);
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    const head = revParse(dir);
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    expect(gitCommit(dir)).toBe(head);
    expect(gitCommit(join(dir, 'a', 'b'))).toBe(head);
  });

  it('with a detached HEAD', () => {
    const dir = repo(3);
    const first = git(dir, 'rev-list', '--max-parents=0', 'HEAD');
    git(dir, 'checkout', '-q', '--detach', first);
    expect(gitCommit(dir)).toBe(first);
    expect(gitCommit(dir)).toBe(revParse(dir));
  });

  it('with the branch only in packed-refs, and a loose ref newer than its packed line', () => {
    const dir = repo(2);
    git(dir, 'pack-refs', '--all');
    expect(gitCommit(dir)).toBe(revParse(dir));
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'after packing'); // a loose ref again, packed-refs stale
    expect(gitCommit(dir)).toBe(revParse(dir));
  });

  it('through a chain of symbolic refs', () => {
    const dir = repo(1);
    git(dir, 'symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
    git(dir, 'symbolic-ref', 'HEAD', 'refs/heads/alias');
    expect(gitCommit(dir)).toBe(revParse(dir));
    expect(gitCommit(dir)).toMatch(/^[0-9a-f]{40}$/);
  });

  it('in a linked worktree (a .git file and a commondir), on its own branch', () => {
    const dir = repo(1);
    const wt = join(root, `wt${n++}`);
    git(dir, 'worktree', 'add', '-q', '-b', 'side', wt);
    git(wt, 'commit', '-q', '--allow-empty', '-m', 'on side');
    expect(gitCommit(wt)).toBe(revParse(wt));
    expect(gitCommit(wt)).not.toBe(gitCommit(dir));
    expect(gitCommit(dir)).toBe(revParse(dir));
  });

  it('with the git directory elsewhere (--separate-git-dir)', () => {
    const dir = join(root, `sep${n++}`);
    mkdirSync(dir);
    git(dir, 'init', '-q', '--separate-git-dir', join(root, `sep-git${n++}`));
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'c');
    expect(gitDirOf(dir)).not.toBe(join(dir, '.git'));
    expect(gitCommit(dir)).toBe(revParse(dir));
  });

  it('null for a branch without commits, a folder in no repository, and a damaged HEAD', () => {
    const unborn = repo(0);
    expect(revParse(unborn)).toBeNull();
    expect(gitCommit(unborn)).toBeNull();
    const plain = join(root, `plain${n++}`);
    mkdirSync(plain);
    expect(gitCommit(plain)).toBeNull();
    const damaged = repo(1);
    writeFileSync(join(damaged, '.git', 'HEAD'), 'ref: ../../outside\n');
    expect(gitCommit(damaged)).toBeNull();
    writeFileSync(join(damaged, '.git', 'HEAD'), 'not an object name\n');
    expect(gitCommit(damaged)).toBeNull();
  });

  it('an invalid .git folder is passed over, as git does (the repository above is used)', () => {
    const dir = repo(1);
    mkdirSync(join(dir, 'sub', '.git'), { recursive: true });
    expect(gitCommit(join(dir, 'sub'))).toBe(revParse(dir));
  });

  it('follows HEAD and 4 more refs, as git (SYMREF_MAXDEPTH 5): a fifth symbolic ref is too deep', () => {
    const dir = repo(1);
    const chain = (links: number): void => {
      let prev = 'refs/heads/main';
      for (let i = 1; i <= links; i++) {
        writeFileSync(join(dir, '.git', 'refs', 'heads', `s${i}`), `ref: ${prev}\n`);
        prev = `refs/heads/s${i}`;
      }
      writeFileSync(join(dir, '.git', 'HEAD'), `ref: ${prev}\n`);
    };
    chain(3);
    expect(gitCommit(dir)).toMatch(/^[0-9a-f]{40}$/);
    expect(gitCommit(dir)).toBe(revParse(dir));
    chain(4);
    expect(revParse(dir)).toBeNull();
    expect(gitCommit(dir)).toBeNull();
  });

  it('a .git folder that is no git directory (a HEAD but no objects/ and refs/, or a junk HEAD) is passed over', () => {
    const dir = repo(1);
    mkdirSync(join(dir, 'headonly', '.git'), { recursive: true });
    writeFileSync(join(dir, 'headonly', '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(join(dir, 'junk', '.git', 'objects'), { recursive: true });
    mkdirSync(join(dir, 'junk', '.git', 'refs'));
    writeFileSync(join(dir, 'junk', '.git', 'HEAD'), 'junk\n');
    expect(gitCommit(join(dir, 'headonly'))).toBe(revParse(dir));
    expect(gitCommit(join(dir, 'junk'))).toBe(revParse(dir));
    expect(revParse(dir)).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a .git file is read as git does: "gitdir: " then the path on its first line, else no repository', () => {
    const dir = repo(1);
    const head = revParse(dir)!;
    const moved = join(root, `moved${n++}.git`);
    renameSync(join(dir, '.git'), moved);
    const cases: [string, string | null][] = [
      [`gitdir: ${moved}\r\n`, head],
      [`gitdir: ${moved}`, head],
      [`gitdir:${moved}\n`, null],
      [`gitdir: ${moved} \n`, null],
      [`x\ngitdir: ${moved}\n`, null],
    ];
    for (const [content, want] of cases) {
      writeFileSync(join(dir, '.git'), content);
      expect([content, revParse(dir)]).toEqual([content, want]);
      expect([content, gitCommit(dir)]).toEqual([content, want]);
    }
  });

  it('GIT_DIR naming a .git file (a linked worktree\'s) is followed', () => {
    const dir = repo(1);
    const wt = join(root, `wt${n++}`);
    git(dir, 'worktree', 'add', '-q', '-b', 'side', wt);
    git(wt, 'commit', '-q', '--allow-empty', '-m', 'on side');
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = join(wt, '.git');
    try {
      expect(gitCommit(dir)).toBe(revParse(wt));
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
    expect(gitCommit(dir)).not.toBe(revParse(wt));
  });

  it('in a bare repository (and not the work tree around it), as git', () => {
    const dir = repo(2);
    const bare = join(dir, 'inner.git');
    git(dir, 'init', '-q', '--bare', bare);
    git(dir, 'push', '-q', bare, 'HEAD~1:refs/heads/main');
    const first = git(dir, 'rev-parse', 'HEAD~1');
    expect(revParse(bare)).toBe(first);
    expect(gitCommit(bare)).toBe(first);
    expect(gitCommit(join(bare, 'refs', 'heads'))).toBe(first);
    expect(gitCommit(dir)).toBe(revParse(dir));
  });

  it('an object name as git parses it: either case, anything after white space ignored', () => {
    const dir = repo(1);
    const head = revParse(dir)!;
    writeFileSync(join(dir, '.git', 'refs', 'heads', 'main'), `${head.toUpperCase()}\n`);
    expect(gitCommit(dir)).toBe(head);
    writeFileSync(join(dir, '.git', 'refs', 'heads', 'main'), `${head} junk\n`);
    expect(gitCommit(dir)).toBe(head);
    expect(revParse(dir)).toBe(head);
    writeFileSync(join(dir, '.git', 'refs', 'heads', 'main'), `${head}junk\n`);
    expect(gitCommit(dir)).toBeNull();
    expect(revParse(dir)).toBeNull();
  });

  it('a symbolic ref to a name git refuses (a..b, x.lock) is not followed', () => {
    const dir = repo(1);
    const head = revParse(dir)!;
    for (const bad of ['a..b', 'x.lock']) {
      writeFileSync(join(dir, '.git', 'refs', 'heads', bad), `${head}\n`);
      writeFileSync(join(dir, '.git', 'HEAD'), `ref: refs/heads/${bad}\n`);
      expect([bad, revParse(dir)]).toEqual([bad, null]);
      expect([bad, gitCommit(dir)]).toEqual([bad, null]);
    }
  });

  it('a FIFO named .git is passed over as git does, not read (the read would wait for a writer forever)', () => {
    const dir = repo(1);
    mkdirSync(join(dir, 'fifo'));
    execFileSync('mkfifo', [join(dir, 'fifo', '.git')]);
    // in a child with a time limit: the old reader blocked its thread in readFileSync
    const probe = join(root, `probe${n++}.mts`);
    writeFileSync(probe, `import { gitCommit } from ${JSON.stringify(join(import.meta.dirname, '..', 'src', 'util', 'git-head.ts'))};\nconsole.log(String(gitCommit(${JSON.stringify(join(dir, 'fifo'))})));\n`);
    const out = execFileSync(process.execPath, ['--import', 'tsx', probe], { cwd: join(import.meta.dirname, '..'), timeout: 20_000, env: gitEnv }).toString().trim();
    expect(out).toBe(revParse(dir));
  });

  it('needs no git program: the commit is read with PATH emptied', () => {
    const dir = repo(1);
    const head = revParse(dir);
    const path = process.env.PATH;
    process.env.PATH = '';
    try {
      expect(gitCommit(dir)).toBe(head);
    } finally {
      process.env.PATH = path;
    }
  });
});
