import { describe, expect, it } from 'vitest';
import { selfSignalCall } from '../src/util/self-signal.js';

describe('selfSignalCall: process.kill of marginlab\'s own process, read as Node reads the call', () => {
  const own = 4242;
  it('its pid (a number or a string), 0 (its group, also as \' \') and −pid with a signal sent', () => {
    expect(selfSignalCall(own, undefined, own)).toBe('process.kill(process.pid)');
    expect(selfSignalCall(String(own), 'SIGINT', own)).toBe('process.kill(process.pid, "SIGINT")');
    expect(selfSignalCall(0, 'SIGTERM', own)).toBe('process.kill(0, "SIGTERM")');
    expect(selfSignalCall(' ', undefined, own)).toBe('process.kill(0)');
    expect(selfSignalCall(-own, 9, own)).toBe('process.kill(-process.pid, 9)');
    expect(selfSignalCall(own, null, own)).toBe('process.kill(process.pid, null)');
  });
  it('−1, every process the user may signal (marginlab\'s own among them: the command ended as a Ctrl-C ends it)', () => {
    expect(selfSignalCall(-1, 'SIGTERM', own)).toBe('process.kill(-1, "SIGTERM")');
    expect(selfSignalCall('-1', undefined, own)).toBe('process.kill(-1)');
    expect(selfSignalCall(-1, 0, own)).toBeNull();
  });
  it('not signal 0, nor a call Node refuses on its own (a signal name it does not know, a pid that is no integer), nor other pids', () => {
    expect(selfSignalCall(own, 0, own)).toBeNull();
    // Node: ERR_UNKNOWN_SIGNAL, no signal sent (the guard ended the command, 78, saying a signal was sent)
    for (const s of ['0', 'sigterm', 'TERM', 'toString', 1.5]) expect(selfSignalCall(own, s, own), String(s)).toBeNull();
    // Node: ERR_INVALID_ARG_TYPE (Number(null) is 0: the guard read it as the process group)
    expect(selfSignalCall(null, 'SIGTERM', own)).toBeNull();
    expect(selfSignalCall(own + 1, 'SIGTERM', own)).toBeNull();
    expect(selfSignalCall(-(own + 1), 'SIGTERM', own)).toBeNull();
  });
});
