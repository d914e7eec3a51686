import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docs/strategies.md lists every field a callback gets. It listed none, and a strategy written from
 * the docs read `fill.side` (undefined: FillInfo has a signed qty) or passed `fill.symbol` (an index)
 * to ctx.symbolIndex (RangeError: unknown symbol '0').
 */
const root = join(import.meta.dirname, '..');
const src = (f: string) => readFileSync(join(root, f), 'utf8');

/** the field names of `interface <name> { ... }` in a source file (one level, comments skipped) */
function fields(file: string, name: string): string[] {
  const text = src(file);
  const start = text.indexOf(`export interface ${name} {`);
  expect(start, `${name} in ${file}`).toBeGreaterThanOrEqual(0);
  const body = text.slice(start, text.indexOf('\n}', start)).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...body.matchAll(/^\s+(?:readonly\s+)?(\w+)\??:/gm)].map((m) => m[1]!);
}

describe('docs/strategies.md: what the callbacks get', () => {
  const doc = src('docs/strategies.md');
  const row = (arg: string): string => {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${arg}\` |`));
    expect(line, `a row for ${arg}`).toBeDefined();
    return line!;
  };

  it('lists every field of FillInfo, FundingInfo and LiquidationInfo, and no field they lack', () => {
    const cases: [string, string[]][] = [
      ['fill', fields('src/strategy/types.ts', 'FillInfo')],
      ['settlement', [...fields('src/account/types.ts', 'FundingSettlement'), 'time']],
      ['outcome', [...fields('src/account/types.ts', 'LiquidationOutcome'), 'time']],
    ];
    for (const [arg, names] of cases) {
      expect(names.length, arg).toBeGreaterThan(3);
      const r = row(arg);
      const cell = r.slice(`| \`${arg}\` |`.length, r.lastIndexOf('|')).trim();
      const listed = [...cell.matchAll(/(?:^|, )`(\w+)`/g)].map((m) => m[1]!);
      expect(listed.sort(), arg).toEqual([...names].sort());
    }
    expect(row('fill')).toMatch(/`qty` \(\*\*signed\*\*: \+ bought, − sold; there is no `side`\)/);
  });
});
