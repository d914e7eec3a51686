import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonFault, jsonFaultText } from '../src/util/json-text.js';
import { readManifest } from '../src/feed/manifest.js';
import { parseRunManifest } from '../src/shard/schema.js';

const faultOf = (text: string) => {
  try {
    JSON.parse(text);
  } catch (e) {
    return { fault: jsonFault(text, e), text: jsonFaultText(text, e) };
  }
  throw new Error('parsed');
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ml-json-text-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('JSON a file holds that does not parse: one line, with the place when V8 names it', () => {
  it('every form of V8 message: with a position (Node 20), with position and line/column (Node 22), quoting the text (no position)', () => {
    // a missing comma before line 3's key
    const text = '{\n  "a": 1\n  "b": 2\n}';
    const { fault } = faultOf(text);
    expect(fault).toMatchObject({ line: 3, column: 3 });
    expect(fault.message).not.toMatch(/position/);
    // Node 22 adds "(line L column C)" after the position: said once, not twice
    const node22 = new SyntaxError(`Expected ',' or '}' after property value in JSON at position 13 (line 3 column 3)`);
    expect(jsonFaultText(text, node22)).toBe(`Expected ',' or '}' after property value, line 3 column 3`);
    // Node 20's "Unexpected token" quotes the text, newlines and all: escaped, one line
    const quoted = faultOf('{\n"format": }\n');
    expect(quoted.text).not.toMatch(/\n/);
    expect(quoted.fault.line).toBeNull();
  });

  it('manifest.json and a run folder\'s manifest.json: the problem is one line (it printed the file\'s own lines)', () => {
    const d = join(dir, 'ds');
    mkdirSync(d);
    writeFileSync(join(d, 'manifest.json'), '{\n"format": }\n');
    expect(() => readManifest(d)).toThrow(expect.objectContaining({ exitCode: 65, message: expect.not.stringMatching(/\n/) }));
    expect(() => parseRunManifest('{\n"engineVersion": }\n', 'run/manifest.json')).toThrow(
      expect.objectContaining({ exitCode: 65, message: expect.stringMatching(/^run\/manifest\.json is not valid JSON \([^\n]*\): a damaged or unfinished file$/) }),
    );
  });
});
