/**
 * A time limit on user code the CLI runs on its main thread before a sweep: a config file (its
 * top-level code, its function, its promise, the getters of its values) and strategy modules (their top-level code, their
 * params schemas, symbols(params)). A run's own callbacks run in the pool's workers, under the
 * config's timeoutMs per pass; this code ran with no limit at all, and a `while (true)` in a
 * strategy's symbols() hung a nightly job for ever (a signal handler runs only when the event loop
 * turns, so neither Ctrl-C nor SIGTERM ended it either).
 *
 * How: a small watchdog thread keeps the timer. When the limit passes it marks the guard as
 * expired, tells the main thread, and stops the main thread's JavaScript through the inspector
 * (`Runtime.terminateExecution`: the stuck stack unwinds, nothing in it can catch that); the main
 * thread's event loop then turns and the message ends the command: the temp files and the output
 * folder's lock are given back as on an interrupt (src/util/interrupt.ts), one line says what ran
 * too long, exit 78. The watchdog connects to the inspector only then; until a limit passes it
 * costs a sleeping thread, and only while a guard runs (it is stopped when its guard ends).
 *
 * Timers the guarded code starts run their callbacks under the limit of the guard that started them
 * (there the watchdog ends the process itself: code stopped inside a timer's callback leaves Node's
 * async bookkeeping broken, and Node aborts with a native stack), and are cancelled when the user
 * code's part of the command ends (cancelUserTimers).
 *
 * Off unless the CLI turns it on (enableTimeLimits): a program that loads a config through the
 * library keeps its own process. Only on the process's main thread (the inspector of a worker
 * thread's session reaches the main thread, not the caller).
 */
import { isMainThread, Worker } from 'node:worker_threads';
import { currentUserFrame } from './user-frame.js';
import { consoleToStderr } from './console-route.js';
import { noteTimers, type TimerKind } from './timer-globals.js';
import { stopAtEnd, stopSoon } from './helper-threads.js';
// marginlab's own timer (the idle watchdog's stop), not a global user code may have replaced or noteTimers tracks
import { clearTimeout as clearOwnTimeout, setTimeout as ownTimeout } from 'node:timers';

/** what ends the command when a limit passed (the CLI's: clean up, one line, exit 78) */
export type ExpiredHandler = (what: string, limit: TimeLimit, reason: ExpiryReason) => void;

/** 'limit': the code ran past its limit and was stopped; 'idle': it waits for something nothing left in the process can bring */
export type ExpiryReason = 'limit' | 'idle';

/** a limit in ms and the setting that gives it (named in the line: `timeoutMs`, an environment variable) */
export interface TimeLimit {
  ms: number;
  key: string;
  /**
   * the watchdog fires this much later than `ms` (the line still names `ms`): for a wait the caller
   * ends by its own timer at `ms` with its own message, the guard only stops code that never returns
   */
  graceMs?: number;
}

let onExpired: ExpiredHandler | null = null;
let watchdog: Worker | null = null;
/** the idle watchdog's stop (WATCHDOG_IDLE_MS after its guard ended) */
let idleStop: NodeJS.Timeout | null = null;
/**
 * A watchdog whose guard ended waits this long for the next guard before it is stopped: the guards of one
 * command come in bursts (a config's load arms five, one after the other), and each thread started cost
 * ≈ 50 ms of CPU (6 per `run`); a sweep does not keep it (≈ 9 MB) beyond this.
 */
const WATCHDOG_IDLE_MS = 250;
/**
 * [0]: 0 idle, otherwise the id of the armed guard; below 0 once the watchdog fired (see WATCHDOG_SOURCE);
 * [1]: the length of what the guard runs now, in `doing` (UTF-8): the watchdog's own line names it;
 * [2]: when that started (ms on the process's monotonic clock after `epoch`), -1 for marginlab's own code (no limit);
 * [3]: 1 while a timer's callback of user code runs (code stopped there leaves Node broken: the watchdog ends the process instead)
 */
let state: Int32Array | null = null;
let doingText: Uint8Array | null = null;
const DOING_BYTES = 1024;
const DOING_AT = 16;
/** the monotonic clock (the same in every thread of the process), ms */
const clockMs = (): number => {
  const [s, ns] = process.hrtime();
  return s * 1000 + ns / 1e6;
};
let epoch = 0;
const encoder = new TextEncoder();
/**
 * The Atomics functions as they were when marginlab started: the guarded code runs in this realm, and
 * one that replaces Atomics.compareExchange made every guard after it look expired (the command hung
 * until the limit, then was killed).
 */
const atomics = { compareExchange: Atomics.compareExchange, load: Atomics.load, store: Atomics.store, notify: Atomics.notify };
const EXPIRED = -1;
/** the main thread took the expiry and is ending the process */
const TAKEN = -2;
let nextId = 1;
/** the guard running now (guards do not nest: an inner one runs under the outer one's limit) */
let active: { id: number; limit: TimeLimit; doing: string } | null = null;

/** Turn the limits on for this process (the CLI, once); `handler` must end the process. */
export function enableTimeLimits(handler: ExpiredHandler): void {
  onExpired = handler;
}

/**
 * Say what the guarded code runs from now on (named in the line when the limit passes): each piece of
 * user code (a module's top-level code, a schema's parse, one symbols() call) gets the whole limit,
 * counted from here; marginlab's own work after it counts to it until the next piece starts. null:
 * marginlab's own work from here, on its own data (no user code, no user values it could read
 * through a getter), which the limit does not count: building a plan of many runs is not the
 * strategy's code running too long.
 */
export function nowRunning(what: string | null): void {
  if (active === null || state === null) return;
  atomics.store(state, 2, what === null ? -1 : Math.floor(clockMs() - epoch));
  if (what === null || active.doing === what) return;
  active.doing = what;
  shareDoing(what);
}

/**
 * marginlab's own set-up inside a piece of user code's window (registering tsx before the first user
 * module loads): not counted to the limit; the piece's clock starts again when it is done.
 */
export async function notCounted<T>(fn: () => Promise<T>): Promise<T> {
  const doing = active?.doing;
  // not under a limit, or in marginlab's own work already (not counted): nothing to pause
  if (doing === undefined || state === null || atomics.load(state, 2) < 0) return fn();
  nowRunning(null);
  try {
    return await fn();
  } finally {
    nowRunning(doing);
  }
}

/** What the guard runs, for the watchdog's own line (it cannot ask a main thread that does not return). */
function shareDoing(what: string): void {
  if (state === null || doingText === null) return;
  atomics.store(state, 1, encoder.encodeInto(what, doingText).written);
}

/** How a limit is named in the lines: `1.5 s (timeoutMs)`, `300 ms (MARGINLAB_CONFIG_TIMEOUT_MS)`. */
export function limitText(limit: TimeLimit): string {
  return `${limit.ms >= 1000 ? `${+(limit.ms / 1000).toFixed(1)} s` : `${limit.ms} ms`} (${limit.key})`;
}

/**
 * The watchdog thread. At the limit it tells the main thread (a message) and gives its event loop
 * a moment to take it (EXPIRED → TAKEN: the main thread ends the process). A main thread that does
 * not take it is running JavaScript that does not return: the watchdog stops that code (EXPIRED →
 * STOPPING → terminateExecution, which also stops the next code to run if none is running) and
 * tries again, until the main thread takes the message. A main thread that never takes it (blocked
 * in a call that does not return to JavaScript, which terminateExecution cannot stop: a synchronous
 * child process, a read that never ends), or a Node without the inspector: one line from here,
 * naming what ran, and SIGKILL (the output folder's lock is taken back by the next command).
 */
const WATCHDOG_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state, 0, 4);
const doing = new Uint8Array(workerData.state, ${DOING_AT});
const EXPIRED = ${EXPIRED}, STOPPING = -3;
const now = () => { const [s, ns] = process.hrtime(); return s * 1000 + ns / 1e6 - workerData.epoch; };
let timer = null;
let limit = '';
parentPort.on('message', (m) => {
  clearTimeout(timer);
  timer = null;
  if (!m.arm) return;
  limit = m.limit;
  timer = setTimeout(() => check(m.arm, m.ms), m.ms);
});
// the limit counts from the start of what runs now: a piece that started later gets its own, and marginlab's own work none
function check(id, ms) {
  timer = null;
  if (Atomics.load(state, 0) !== id) return;
  const start = Atomics.load(state, 2);
  const left = start < 0 ? ms : start + ms - now();
  if (left > 0) timer = setTimeout(() => check(id, ms), Math.ceil(left));
  else expire(id);
}
function fallback(why) {
  const what = new TextDecoder().decode(doing.slice(0, Atomics.load(state, 1))) || 'code of the config or a strategy';
  require('node:fs').writeSync(2, 'marginlab: ' + what + ' ran for more than ' + limit + ' without returning, and ' + why + ', so marginlab ended the process at once (its output folder\\'s lock is taken back by the next command)\\n');
  process.kill(process.pid, 'SIGKILL');
}
function expire(id) {
  // only the guard that armed this timer, and only while it runs
  if (Atomics.compareExchange(state, 0, id, EXPIRED) !== id) return;
  // 250 ms for the main thread to take the message before the first stop, then 2 s after each stop (≈ 10 s in all before
  // the fallback): a second stop sent while a starved main thread (a load of 10 on 2 cores) had not yet taken the message
  // of the first could land in the handler that ends the command, and the process exited 13 (an unsettled await) instead of 78
  for (let round = 0; ; round++) {
    parentPort.postMessage({ expired: id });
    Atomics.wait(state, 0, EXPIRED, round === 0 ? 250 : 2000);
    if (Atomics.compareExchange(state, 0, EXPIRED, STOPPING) !== EXPIRED) return;
    // five stops and a wait after each: still running
    if (round === 5) break;
    // code stopped inside a timer's callback leaves Node's own bookkeeping of that callback broken (it
    // aborts with "async hook stack has become corrupted" and a native stack): ended from here instead
    if (Atomics.load(state, 3) === 1) return fallback('it runs in a timer callback, where stopping it would leave Node itself broken');
    try {
      // a session only for this request: one left connected makes Node print "Waiting for the debugger to disconnect..." at exit
      const { Session } = require('node:inspector');
      const session = new Session();
      session.connectToMainThread();
      session.post('Runtime.terminateExecution');
      session.disconnect();
    } catch (e) {
      return fallback('this Node has no inspector to stop it');
    }
    Atomics.store(state, 0, EXPIRED);
  }
  fallback('it could not be stopped: it waits in a call that does not return to JavaScript (a synchronous child process, a read that never ends)');
}
`;

function startWatchdog(): Worker {
  const shared = new SharedArrayBuffer(DOING_AT + DOING_BYTES);
  state = new Int32Array(shared, 0, 4);
  doingText = new Uint8Array(shared, DOING_AT);
  epoch = clockMs();
  const w = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { state: shared, epoch },
    // a thread that only keeps a timer: none of the process's preloads (`--import tsx` registers loader
    // hooks, whose start waits on this thread's event loop: a loop right after the first guard hung it)
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  w.on('message', (m: { expired?: number }) => {
    if (m.expired !== undefined && atomics.compareExchange(state!, 0, EXPIRED, TAKEN) === EXPIRED) {
      atomics.notify(state!, 0);
      fire();
    }
  });
  // a watchdog that could not start (no threads left): the guarded code runs without a limit
  w.on('error', () => {
    if (watchdog === w) watchdog = null;
  });
  // after the listeners (a 'message' listener refs the worker again): the watchdog never keeps the process alive
  w.unref();
  // one left idle when the command ends (its stop timer not yet due) is stopped and waited for there (src/util/helper-threads.ts)
  stopAtEnd(w);
  return w;
}

/** Stop the watchdog now (the command's end waits for it); the next guard starts one again. */
function stopWatchdog(): void {
  if (idleStop !== null) clearOwnTimeout(idleStop);
  idleStop = null;
  const w = watchdog;
  watchdog = null;
  if (w) stopSoon(w);
}

/** what puts the console back as it was before user code ran, the outermost first (userConsole) */
const consoleRestores: (() => void)[] = [];

/** The console of user code (console.* and process.stdout.write on stderr: util/console-route.ts) until the returned function is called. */
function userConsole(): () => void {
  const restore = consoleToStderr();
  consoleRestores.push(restore);
  return () => {
    const i = consoleRestores.lastIndexOf(restore);
    if (i >= 0) consoleRestores.splice(i, 1);
    restore();
  };
}

function fire(reason: ExpiryReason = 'limit'): void {
  // the handler is marginlab's code, run while the user code's console is in place: its own console first
  consoleRestores[0]?.();
  consoleRestores.length = 0;
  onExpired?.(active?.doing ?? 'user code', active?.limit ?? { ms: 0, key: '' }, reason);
}

/**
 * The event loop ran dry with a guard armed ('beforeExit'): the guarded code waits for something
 * nothing left can bring (ended now, not at the limit), or the watchdog stopped it and its message
 * is still on the way (taken here; while the watchdog is stopping the thread, checked again shortly).
 */
function idle(): void {
  if (active === null || state === null) return;
  const id = active.id;
  if (atomics.compareExchange(state, 0, id, TAKEN) === id) fire('idle');
  else if (atomics.compareExchange(state, 0, EXPIRED, TAKEN) === EXPIRED) fire();
  else if (atomics.load(state, 0) !== TAKEN) setTimeout(idle, 20);
}

// ---------------------------------------------------------------------------------------------
// timers the guarded code leaves behind

/**
 * Timers and immediates that user code started on this thread while a guard ran, with the place in
 * the user's code that started each. Their callbacks would run later outside any guard: a config's
 * `setTimeout(() => { for (;;) {} }, 1500)`, or an async config function that goes on looping after its
 * promise's limit was given up on, hung the command (during the sweep, or after its line was
 * printed) with no time limit at all, and neither Ctrl-C nor SIGTERM could end it. They are cancelled
 * when the user code's part of the command is over (cancelUserTimers).
 */
const userTimers = new Map<object, { type: 'Timeout' | 'Immediate'; where: string }>();
/** while the callback of a user timer runs: where user code started it ("file:line") */
let runningTimerWhere: string | null = null;
/** set on an error a user timer's callback threw: where user code started the timer ("file:line") */
const STARTED_AT = Symbol('marginlab.timerStartedAt');

/**
 * Where user code started the timer whose callback threw `err` ("file:line"), or null: the callback may
 * be a package's (a config calling a client's `startPolling()`), whose stack names no user file.
 */
export function timerStartedAt(err: unknown): string | null {
  if (err === null || (typeof err !== 'object' && typeof err !== 'function')) return null;
  try {
    const at = (err as Record<symbol, unknown>)[STARTED_AT];
    return typeof at === 'string' ? at : null;
  } catch {
    return null; // a proxy's trap
  }
}
/** the first frame of the current stack in user code (util/user-frame.ts): "file:line", or null (a timer marginlab starts inside a guard, a promise's time limit, is its own) */
function userFrame(): string | null {
  const f = currentUserFrame();
  return f === null ? null : `${f.file}:${f.line}`;
}

/**
 * A timer or immediate user code just started (`t`, from `fn`'s call): kept to be cancelled, and its
 * callback run under the limit of the guard it was started under (a callback that never returns is
 * ended and named, as the code that started it would be). Node calls the callback it keeps on the
 * object; a Node without one runs it as it is.
 */
function track(t: object, type: TimerKind): void {
  // started by user code; or inside the callback of a timer user code started (a package polling again: only the
  // package's frames are on the stack), named by where the first one was started
  const where = userFrame() ?? runningTimerWhere;
  if (where === null) return;
  userTimers.set(t, { type, where });
  const limit = active?.limit;
  const key = type === 'Timeout' ? '_onTimeout' : '_onImmediate';
  const r = t as Record<string, unknown>;
  const callback = r[key];
  if (limit === undefined || typeof callback !== 'function') return;
  const doing = `a ${type === 'Timeout' ? 'timer' : 'setImmediate callback'} started at ${where}`;
  r[key] = function guarded(this: unknown, ...args: unknown[]): unknown {
    // under its own guard, or the one running now (a timer that fires while a config's promise is awaited)
    const id = arm(limit, doing);
    // under a guard running now: named for what runs, as a piece of its own
    const outer = id === 0 && active !== null ? active.doing : null;
    if (outer !== null) nowRunning(doing);
    const cells = state;
    if (cells !== null) atomics.store(cells, 3, 1);
    // its console output on stderr, as the code's that started it (stdout carries the command's output)
    const restoreConsole = userConsole();
    const outerWhere = runningTimerWhere;
    runningTimerWhere = where;
    try {
      return (callback as (...a: unknown[]) => unknown).apply(this, args);
    } catch (err) {
      // uncaught from here: the place that started the timer names it (src/util/user-faults.ts)
      if (err !== null && (typeof err === 'object' || typeof err === 'function') && timerStartedAt(err) === null) {
        try {
          Object.defineProperty(err, STARTED_AT, { value: where });
        } catch {
          // frozen, a proxy: named as it can be
        }
      }
      throw err;
    } finally {
      runningTimerWhere = outerWhere;
      restoreConsole();
      if (cells !== null) atomics.store(cells, 3, 0);
      if (id !== 0) disarm(id);
      else if (outer !== null) nowRunning(outer);
    }
  };
}

/**
 * Cancel the timers and immediates user code started under a guard that have not run (an interval
 * however often it ran); returns where each was started. Called when no more user code runs on this
 * thread for the command (after the plan; at the command's end; when a guard ends in an error).
 */
export function cancelUserTimers(): string[] {
  const places: string[] = [];
  for (const [t, { type, where }] of userTimers) {
    // (Node marks a timer that ran or was cleared, and an immediate that ran, as destroyed; an interval never is)
    const live = (t as { _destroyed?: boolean })._destroyed !== true;
    if (type === 'Timeout') clearTimeout(t as NodeJS.Timeout);
    else clearImmediate(t as NodeJS.Immediate);
    if (live) places.push(where);
  }
  userTimers.clear();
  return places;
}

/**
 * Arm a guard over code about to run on this thread (synchronous: also around a timer's callback);
 * its id, or 0 when none was armed (limits off, off the main thread, inside another guard, no limit).
 */
function arm(limit: TimeLimit, doing: string): number {
  const limitMs = limit.ms + (limit.graceMs ?? 0);
  if (onExpired === null || !isMainThread || active !== null || !(limitMs > 0) || !Number.isFinite(limitMs)) return 0;
  // the watchdog of the guard before, if it is still there (WATCHDOG_IDLE_MS)
  if (idleStop !== null) clearOwnTimeout(idleStop);
  idleStop = null;
  watchdog ??= startWatchdog();
  const id = nextId++;
  active = { id, limit, doing };
  atomics.store(state!, 0, id);
  atomics.store(state!, 2, Math.floor(clockMs() - epoch));
  shareDoing(doing);
  // a limit above a 32-bit timer's range (24.8 days) is no limit
  if (limitMs < 2 ** 31) watchdog.postMessage({ arm: id, ms: limitMs, limit: limitText(limit) });
  // the event loop running dry while the guard is armed: stopped code left nothing else in it, or the
  // guarded code waits on nothing (a promise nothing can settle)
  process.on('beforeExit', idle);
  return id;
}

/**
 * Disarm guard `id`. false when its limit passed as the code returned: the watchdog's message ends
 * the process, and nothing after the guard may run (the watchdog stays to finish it).
 */
function disarm(id: number): boolean {
  if (atomics.compareExchange(state!, 0, id, 0) !== id) return false;
  // the watchdog goes soon after its guard: a thread (≈ 9 MB resident) kept through a sweep counted against
  // the memory the run may use. Until then it waits, its timer cleared, for the next guard (WATCHDOG_IDLE_MS)
  if (watchdog) {
    watchdog.postMessage({});
    idleStop = ownTimeout(stopWatchdog, WATCHDOG_IDLE_MS);
    idleStop.unref();
  }
  process.off('beforeExit', idle);
  active = null;
  return true;
}

/**
 * Run `fn` (user code, or marginlab code calling it) under `limit`; `doing` says what it runs
 * (changed as it goes with nowRunning). Without enableTimeLimits, off the main thread, or inside
 * another guard, `fn` runs as it is. The timers user code starts meanwhile run their callbacks under
 * the same limit, and are cancelled when the user code's part of the command ends (cancelUserTimers).
 * With the limits on (the CLI), `fn` and those callbacks write console.* and process.stdout.write
 * output to stderr: stdout carries the command's own output.
 */
export async function withTimeLimit<T>(limit: TimeLimit, doing: string, fn: () => Promise<T>): Promise<T> {
  // in the CLI, what the user code writes with console.* or process.stdout.write goes to stderr: stdout carries
  // the command's own output (`run --json` events, `strategies --json`), which a config's console.log broke
  const restoreConsole = onExpired !== null && isMainThread ? userConsole() : null;
  try {
    return await limited(limit, doing, fn);
  } finally {
    restoreConsole?.();
  }
}

async function limited<T>(limit: TimeLimit, doing: string, fn: () => Promise<T>): Promise<T> {
  const id = arm(limit, doing);
  if (id === 0) return fn();
  // the global timer functions note the timers user code starts (`track`). (Not async_hooks: with a hook
  // enabled Node checks its async bookkeeping, and code stopped by the watchdog in a callback aborts it)
  const unwatchTimers = noteTimers(track);
  let out: T;
  let failed = true;
  try {
    out = await fn();
    failed = false;
  } finally {
    unwatchTimers();
    // the user code's part ends here when it failed: what it left scheduled must not run after the line
    if (failed) cancelUserTimers();
    if (!disarm(id)) await new Promise<never>(() => undefined);
  }
  return out;
}
