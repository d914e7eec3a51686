/**
 * A worker's result crosses to the main thread as the result file's bytes, moved, not copied
 * (src/shard/worker.ts serializeResult): each result owns its whole buffer (a slice of Buffer's
 * shared pool, which small results would get from Buffer.from, would detach the pool when
 * transferred), holds its JSON as UTF-8 and ends with the file's newline.
 */
import { describe, expect, it } from 'vitest';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { digestProblems, manifestText } from '../src/shard/result-schema.js';
import { erroredResult, serializeResult } from '../src/shard/worker.js';
import { ENGINE_VERSION } from '../src/engine/index.js';
import type { RunSpec } from '../src/shard/types.js';

const spec: RunSpec = {
  strategy: 'sma-cross', params: { note: 'naïve – ✓ 📉' }, venue: 'binance-usdm', setup: 'cross', leverage: 3, dataset: 'd', timeframe: '1h', symbols: ['BTCUSDT'],
  from: null, to: null, initialCapital: '10000', execution: {}, dataHashes: {}, engineVersion: ENGINE_VERSION,
};

describe('a result as the worker hands it over', () => {
  it.each([
    ['a small one', 'x'],
    ['one with text outside ASCII', 'strategy threw: Error: prix négatif — 📉 (in onBar)'],
    ['a large one', 'y'.repeat(200_000)],
  ])('%s: its own buffer, the JSON as UTF-8, a newline at the end', (_, message) => {
    const r = erroredResult('0123456789abcdef', spec, message);
    const s = serializeResult(r);
    expect(s.bytes).toBeInstanceOf(Uint8Array);
    expect(s.bytes.byteOffset).toBe(0);
    expect(s.bytes.byteLength).toBe(s.bytes.buffer.byteLength);
    // the JSON with its digest as the last member: the sha256 of the JSON without it (a value edited later no longer hashes to it)
    const json = JSON.stringify(r);
    expect(Buffer.from(s.bytes).toString('utf8')).toBe(`${json.slice(0, -1)},"digest":"${createHash('sha256').update(json).digest('hex')}"}\n`);
    const parsed = JSON.parse(Buffer.from(s.bytes).toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(parsed).at(-1)).toBe('digest');
    expect(digestProblems(parsed)).toEqual([]);
    expect(digestProblems({ ...parsed, error: `${message}!` })).toEqual([expect.stringMatching(/^digest: the file's content hashes to [0-9a-f]{16}…, not to its digest/)]);
    // a result that carries a digest (read from its file) is written with the digest taken again, once
    expect(Buffer.from(serializeResult(parsed as unknown as typeof r).bytes).toString('utf8')).toBe(Buffer.from(s.bytes).toString('utf8'));
    expect({ runId: s.runId, status: s.status, error: s.error }).toEqual({ runId: r.runId, status: 'errored', error: r.error });
  });

  it('a member named "__proto__" added to a file (JSON.parse makes it an own member) is content the digest judges', () => {
    const s = Buffer.from(serializeResult(erroredResult('0123456789abcdef', spec, 'x')).bytes).toString('utf8');
    const parsed = JSON.parse(s) as Record<string, unknown>;
    expect(digestProblems(parsed)).toEqual([]);
    const added = JSON.parse(s.replace(/^\{/, '{"__proto__":{"edited":true},')) as Record<string, unknown>;
    expect(Object.keys(added)).toContain('__proto__');
    expect(digestProblems(added)).toEqual([expect.stringMatching(/^digest: /)]);
    // and a manifest written with one carries it, hashed
    const text = manifestText(JSON.parse('{"__proto__":{"a":1},"b":2}') as object);
    const m = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(m)).toEqual(['__proto__', 'b', 'digest']);
    expect(digestProblems(m)).toEqual([]);
  });

  it('moving two results leaves every other buffer alone (nothing shared is detached)', () => {
    const a = serializeResult(erroredResult('0123456789abcdef', spec, 'a'));
    const b = serializeResult(erroredResult('fedcba9876543210', spec, 'b'));
    const bystander = Buffer.from('kept');
    const { port1, port2 } = new MessageChannel();
    port1.postMessage([a, b], [a.bytes.buffer as ArrayBuffer, b.bytes.buffer as ArrayBuffer]);
    const got = receiveMessageOnPort(port2)!.message as (typeof a)[];
    port1.close();
    expect(a.bytes.byteLength).toBe(0); // moved
    expect(Buffer.from(got[0]!.bytes).toString()).toContain('"runId":"0123456789abcdef"');
    expect(Buffer.from(got[1]!.bytes).toString()).toContain('"runId":"fedcba9876543210"');
    expect(bystander.toString()).toBe('kept');
  });
});
