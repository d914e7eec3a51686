/**
 * No module of marginlab's own has a top-level await: such a module goes through V8's async module evaluation
 * (SourceTextModule::ExecuteAsyncModule), where Node 20–25 abort at random, rarely, with "Check failed: (location_) !=
 * nullptr" (SIGTRAP, no exit code: nodejs/node#53238, #60755). A CI run saw one command of ≈ 400 end so, while the CLI's
 * entry modules (bin/marginlab.mjs, src/cli/bin.mjs, src/cli/main.ts) and its threads' (worker-entry.mjs, load-entry.mjs,
 * parquet-entry.mjs) awaited at their top level. Checked on the syntax tree of every module the package runs.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { REPO, runCli, startCli } from './fixtures/run/cli.js';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|mjs|js)$/.test(f) && !f.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** the top-level awaits of a module (an await or for await outside every function), as 'file:line' */
function topLevelAwaits(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, path.endsWith('ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) || ts.isClassStaticBlockDeclaration(n)) return;
    if (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier !== undefined)) {
      found.push(`${relative(REPO, path)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('top-level await', () => {
  it('no module of the package or the repository\'s command has one (the entry modules had six)', () => {
    const all = [...files(join(REPO, 'src')), ...files(join(REPO, 'strategies')), join(REPO, 'bin', 'marginlab.mjs')];
    expect(all.length).toBeGreaterThan(100);
    expect(all.flatMap(topLevelAwaits)).toEqual([]);
  });

  it('the check finds one (an await at the top, in a block, in for await; none inside a function)', () => {
    const dir = join(REPO, '.tmp');
    const p = join(dir, 'tla-probe.mjs');
    const { mkdirSync } = require('node:fs') as typeof import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(p, 'await x;\nif (a) { await y; }\nfor await (const z of q) {}\nasync function f() { await w; }\nconst g = async () => await v;\n');
    try {
      expect(topLevelAwaits(p).map((s) => s.split(':').pop())).toEqual(['1', '2', '3']);
    } finally {
      rmSync(p);
    }
  });
});

describe('a command whose work never settles while nothing is left to run', () => {
  it('exits 70 with one line (the top-level await made it 13 with a warning of Node\'s)', async () => {
    // a module hook that never answers for the strategies command's module: the command waits on it with an empty loop
    const dir = mkdtempSync(join(tmpdir(), 'ml-unsettled-'));
    try {
      writeFileSync(join(dir, 'hooks.mjs'), "export async function load(url, context, next) {\n  if (url.includes('/commands/strategies.')) return new Promise(() => {});\n  return next(url, context);\n}\n");
      writeFileSync(join(dir, 'pre.mjs'), "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
      const r = await startCli(['strategies'], dir, { nodeArgs: ['--import', join(dir, 'pre.mjs')] }).done;
      expect(r.code, r.stderr).toBe(70);
      expect(r.stderr).toBe('marginlab: internal error: the command ended before it finished (nothing was left to run while it waited); run it again, and report it if it recurs\n');
      // the same command without the hook lists the strategies
      const ok = await runCli(['strategies'], dir);
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
