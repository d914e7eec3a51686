/**
 * A signal to marginlab's own process from user code's `process.kill(pid, signal)`: the one test of the main thread's
 * guard (./user-faults.ts) and the workers' (src/shard/isolation.ts), which refuse it. Read as Node reads the call, so
 * that a call Node refuses on its own (a signal name it does not know, such as 'sigterm'; a pid that is no integer,
 * such as null) throws as it always did instead of being taken for a signal, and one it sends is never missed:
 * the pid `pid == (pid | 0)` ('123' and ' ', which is 0, are pids), the signal a whole number as given, else a name
 * of os.constants.signals (none, null or '' is SIGTERM).
 */
import { constants } from 'node:os';

const SIGNALS = constants.signals as unknown as Record<string, number>;

/**
 * How the call reads in a message (`process.kill(process.pid, "SIGTERM")`) when it signals the process `own` (its pid, 0:
 * its process group, −pid, or −1: every process the user may signal, marginlab's own among them) with a signal that is
 * sent; null for any other call (signal 0, the liveness check, included).
 */
export function selfSignalCall(pid: unknown, signal: unknown, own: number = process.pid): string | null {
  // eslint-disable-next-line eqeqeq
  if ((pid as number) != ((pid as number) | 0)) return null;
  const target = (pid as number) | 0;
  if (target !== own && target !== 0 && target !== -own && target !== -1) return null;
  let sig: number | undefined;
  if (typeof signal === 'number' && signal === (signal | 0)) sig = signal;
  else {
    const name = typeof signal === 'symbol' ? '' : String(signal || 'SIGTERM');
    sig = Object.hasOwn(SIGNALS, name) && typeof SIGNALS[name] === 'number' ? SIGNALS[name] : undefined;
  }
  if (sig === undefined || sig === 0) return null;
  const who = target === 0 ? '0' : target === -1 ? '-1' : target === own ? 'process.pid' : '-process.pid';
  return `process.kill(${who}${signal === undefined ? '' : `, ${typeof signal === 'string' ? JSON.stringify(signal) : String(signal)}`})`;
}
