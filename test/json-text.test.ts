import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonDuplicateKey, jsonErrorOffset, jsonFault, jsonFaultText, protoKeyPath } from '../src/util/json-text.js';
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
    // ... and names no position: the place is found by scanning the text (docs/config.md promises file:line:column)
    expect(quoted.fault).toMatchObject({ line: 2, column: 11 });
  });

  it('jsonErrorOffset: the first character at which a text stops being JSON, null for JSON', () => {
    const cases: [string, number | null][] = [
      ['{"a": [3,]}', 9], ['{"a": 1,}', 8], ['{"a" 1}', 5], ['[1 2]', 3], ['{"a": tru}', 6], ['{"a": 01}', 7], ['"abc', 4],
      ['{"a": "x\\u12g4"}', 8], ['{"a": "\\q"}', 7], ['{"a": 1} x', 9], ['', 0], ['  ', 2], ['{', 1], ['[1,', 3], ["{'a': 1}", 1],
      ['{"a": [1, {"b": null}], "c": -1.5e+3, "d": "\\\"\u00e9"}', null], ['\ufeff{"a": 1}', null], [' 7 ', null],
    ];
    for (const [text, at] of cases) expect(jsonErrorOffset(text), text).toBe(at);
    // whatever JSON.stringify writes is JSON; any prefix of it that JSON.parse refuses has an offset within it
    const doc = JSON.stringify({ name: 'x', list: [1, -2.5e-7, 'a"b\\c', null, true, { deep: [[], {}] }], s: 'é\u0001' }, null, 2);
    expect(jsonErrorOffset(doc)).toBeNull();
    for (let k = 0; k < doc.length; k++) {
      const cut = doc.slice(0, k);
      let parses = true;
      try { JSON.parse(cut); } catch { parses = false; }
      const at = jsonErrorOffset(cut);
      if (parses) expect(at, cut).toBeNull();
      else expect(at !== null && at <= k, cut).toBe(true);
    }
  });

  it('jsonDuplicateKey: the first key written twice in one object, with its object\'s path and the place of its second writing', () => {
    expect(jsonDuplicateKey('{"a": 1, "b": {"a": 2}, "c": [{"a": 1}, {"a": 2}]}')).toBeNull();
    expect(jsonDuplicateKey('{"a": 1,\n "a": 2}')).toEqual({ path: '(root)', key: 'a', line: 2, column: 2 });
    expect(jsonDuplicateKey('{"x": [0, {"y": {"k": 1, "\\u006b": 2}}]}')).toMatchObject({ path: 'x[1].y', key: 'k' });
    expect(jsonDuplicateKey('[[{"a":1,"b":2,"b":3}]]')).toMatchObject({ path: '[0][0]', key: 'b', line: 1, column: 16 });
    // no JSON: nothing to say
    expect(jsonDuplicateKey('{"a": 1, "a": }')).toBeNull();
    // the top-level key of a duplicate in a nested object: the first found in text order
    expect(jsonDuplicateKey('{"p": {"q": 1, "q": 2}, "p": 3}')).toMatchObject({ path: 'p', key: 'q' });
  });

  it('protoKeyPath: an own key "__proto__" of a parsed value, anywhere in it', () => {
    expect(protoKeyPath(JSON.parse('{"a": [{"b": 1}]}'))).toBeNull();
    expect(protoKeyPath(JSON.parse('{"__proto__": {"x": 1}}'))).toBe('__proto__');
    expect(protoKeyPath(JSON.parse('{"a": [1, {"__proto__": null}]}'))).toBe('a.1.__proto__');
    expect(protoKeyPath({ __proto__: { x: 1 } })).toBeNull(); // a literal's prototype is no own key
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

describe('a run manifest of a newer marginlab', () => {
  it('says so, with its version (it read "schemaVersion: expected 1, got 7")', () => {
    expect(() => parseRunManifest(JSON.stringify({ schemaVersion: 7, marginlabVersion: '9.0.0', name: 'n' }), 'run/manifest.json')).toThrow(
      'run/manifest.json is a run manifest of schema version 7, written by a newer marginlab (9.0.0); this one reads version 1: use that marginlab, or run the sweep again with this one',
    );
  });
});
