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
import { REPO } from './fixtures/run/cli.js';

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
    const { mkdirSync, writeFileSync, rmSync } = require('node:fs') as typeof import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(p, 'await x;\nif (a) { await y; }\nfor await (const z of q) {}\nasync function f() { await w; }\nconst g = async () => await v;\n');
    try {
      expect(topLevelAwaits(p).map((s) => s.split(':').pop())).toEqual(['1', '2', '3']);
    } finally {
      rmSync(p);
    }
  });
});
