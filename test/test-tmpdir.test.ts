/**
 * The test run keeps its temporary files in one folder of its own (test/global-setup.ts sets
 * TMPDIR and removes the folder at the end): nothing of a run is left in the machine's /tmp.
 */
import { execFileSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';

it('tests and the commands they start write their temporary files into the run\'s own folder', () => {
  expect(basename(tmpdir())).toMatch(/^marginlab-test-/);
  const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(require("node:os").tmpdir())'], { encoding: 'utf8' });
  expect(child).toBe(tmpdir());
  expect(dirname(tmpdir())).not.toBe(tmpdir());
});
