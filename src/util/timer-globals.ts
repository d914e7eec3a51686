/**
 * The global timer functions as Node gives them, taken when marginlab starts, and a way to note
 * every timer code starts through them: a worker notes a pass's timers to cancel them when the pass
 * ends (shard/isolation.ts), the CLI's time limit the timers a config's or a strategy's code starts
 * (util/time-limit.ts).
 */
export type TimerKind = 'Timeout' | 'Immediate';

/** Node's setTimeout, setInterval and setImmediate */
export const realTimers = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval, setImmediate: globalThis.setImmediate };

/**
 * Replace the global setTimeout, setInterval and setImmediate with Node's own that also give each
 * timer they start to `note` (their properties kept: util.promisify still finds its custom form).
 * Returns what puts Node's functions back.
 */
export function noteTimers(note: (t: NodeJS.Timeout | NodeJS.Immediate, kind: TimerKind) => void): () => void {
  const g = globalThis as unknown as Record<string, unknown>;
  const noted =
    <A extends unknown[], T extends NodeJS.Timeout | NodeJS.Immediate>(start: (...a: A) => T, kind: TimerKind) =>
    (...a: A): T => {
      const t = start(...a);
      note(t, kind);
      return t;
    };
  g.setTimeout = Object.assign(noted(realTimers.setTimeout as (...a: Parameters<typeof setTimeout>) => NodeJS.Timeout, 'Timeout'), realTimers.setTimeout);
  g.setInterval = Object.assign(noted(realTimers.setInterval as (...a: Parameters<typeof setInterval>) => NodeJS.Timeout, 'Timeout'), realTimers.setInterval);
  g.setImmediate = Object.assign(noted(realTimers.setImmediate as (...a: Parameters<typeof setImmediate>) => NodeJS.Immediate, 'Immediate'), realTimers.setImmediate);
  return () => {
    Object.assign(g, realTimers);
  };
}
