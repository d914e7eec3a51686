/**
 * Regenerates the golden results in test/golden/ (npm run goldens:update). Goldens change only
 * through this script; review the diff before committing it.
 */
import { readFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from '../src/util/atomic.js';
import { computeGoldens, goldenFile } from '../test/golden/compute.js';

const goldens = await computeGoldens();
let changed = 0;
for (const g of goldens) {
  const file = goldenFile(g.strategy);
  const text = `${JSON.stringify(g, null, 2)}\n`;
  const old = existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (old === text) continue;
  writeFileAtomic(file, text);
  changed++;
  process.stdout.write(`${old === null ? 'created' : 'updated'} ${file}\n`);
}
process.stdout.write(`${goldens.length} goldens, ${changed} changed\n`);
