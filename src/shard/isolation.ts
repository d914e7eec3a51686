/**
 * Run isolation inside one realm (a worker thread, or the main thread while strategy modules load).
 * A run's results must depend only on its own spec, whatever other strategies do:
 *
 * - Built-ins: every own property of the shared intrinsics (Math, JSON, Object, Array, Number, ...,
 *   their prototypes, the typed arrays, iterators, Promise, decimal.js's Decimal) is snapshotted
 *   once; after each pass (and after a strategy module loads) the realm is compared with the
 *   snapshot, every change is undone, and the pass that made it is errored, naming what it changed
 *   (a strategy that changes them at load time is errored on every run, in every worker).
 *   Metrics are computed after the restore, so even the offending pass cannot skew them.
 * - Timers: setTimeout / setInterval / setImmediate created while a pass runs are cancelled when
 *   it ends (strategy callbacks are synchronous; nothing of theirs runs later, in another run). One a
 *   strategy module's top-level code starts as it loads here fires during a pass: what it throws
 *   errors that pass, naming it as the module's (moduleTimer), not as a callback's.
 * - Errors after a callback returned (a throwing microtask, an unhandled rejection) are caught
 *   while the pass is current and attributed to it.
 * - Async callbacks: the engine checks what each callback returns (src/engine/runner-state.ts checkSync).
 * - Output: console output of strategies goes to stderr, never to stdout (the --json stream).
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decimal } from 'decimal.js';
import { thrownText } from '../util/excerpt.js';
import { noteTimers, realTimers } from '../util/timer-globals.js';
import { isImportFault } from '../util/user-import.js';
import { currentUserFrame } from '../util/user-frame.js';
import { shownPath } from '../util/module-default.js';
import { routeConsoleToStderr } from '../util/console-route.js';
import { selfSignalCall } from '../util/self-signal.js';

export { routeConsoleToStderr, withConsoleOnStderr } from '../util/console-route.js';

// Everything restore() uses before the realm is clean again is captured here, at module load:
// it must work whatever a strategy did to Array.prototype, Map.prototype, Object.prototype, ...
const R = {
  ownKeys: Reflect.ownKeys,
  getDesc: Reflect.getOwnPropertyDescriptor,
  define: Reflect.defineProperty,
  del: Reflect.deleteProperty,
  getProto: Reflect.getPrototypeOf,
  setProto: Reflect.setPrototypeOf,
  isExtensible: Reflect.isExtensible,
  is: Object.is,
  hasOwn: Object.hasOwn,
  create: Object.create as (p: null) => Record<PropertyKey, unknown>,
  symbolDescription: Object.getOwnPropertyDescriptor(Symbol.prototype, 'description')!.get!,
  apply: Reflect.apply,
};
const DESC_FIELDS = ['value', 'get', 'set', 'writable', 'enumerable', 'configurable'] as const;

/** A property descriptor as a null-prototype object (nothing inherited can change its meaning) */
type Desc = Record<PropertyKey, unknown>;
interface ObjSnap {
  name: string;
  obj: object;
  /** key → descriptor, null prototype */
  descs: Record<PropertyKey, Desc>;
  /** the keys of `descs` (listed once: restore() runs after every pass) */
  keys: PropertyKey[];
  proto: object | null;
  extensible: boolean;
}

/** globalThis properties compared (accessors and lazily-defined Node globals are left alone) */
const GLOBAL_NAMES = [
  'Object', 'Function', 'Array', 'Number', 'String', 'Boolean', 'Symbol', 'BigInt', 'Math', 'JSON', 'Reflect', 'Date', 'RegExp',
  'Map', 'Set', 'WeakMap', 'WeakSet', 'Promise', 'Error', 'TypeError', 'RangeError', 'SyntaxError', 'ArrayBuffer',
  'SharedArrayBuffer', 'DataView', 'Atomics', 'Float64Array', 'Float32Array', 'Int32Array', 'Uint32Array', 'Int16Array',
  'Uint16Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'BigInt64Array', 'BigUint64Array', 'Intl', 'parseFloat',
  'parseInt', 'isFinite', 'isNaN', 'Infinity', 'NaN', 'undefined', 'structuredClone', 'setTimeout', 'setInterval', 'setImmediate',
  'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'console',
] as const;
/**
 * keys tools change legitimately (source maps, stack depth): undone like the others, but not reported (the pass is not
 * errored for them). Undone all the same: they decide the stack, and so the location, of every error thrown later in the
 * realm, so a pass that set `Error.stackTraceLimit = 0` took the location off another run's error message (same RunId,
 * another result)
 */
const IGNORED = Object.assign(Object.create(null) as Record<string, true>, { 'Error.prepareStackTrace': true, 'Error.stackTraceLimit': true } as const);

function intrinsics(): [string, object][] {
  const g = globalThis as unknown as Record<string, unknown>;
  const out: [string, object][] = [];
  const add = (name: string, v: unknown) => {
    if ((typeof v === 'object' || typeof v === 'function') && v !== null && !out.some(([, o]) => o === v)) out.push([name, v as object]);
  };
  for (const n of GLOBAL_NAMES) {
    if (n === 'console' || n.startsWith('set') || n.startsWith('clear') || n === 'queueMicrotask') continue;
    const v = g[n];
    add(n, v);
    if (typeof v === 'function' && (v as { prototype?: unknown }).prototype) add(`${n}.prototype`, (v as { prototype: unknown }).prototype);
  }
  const typedArray = Object.getPrototypeOf(Int8Array) as object;
  add('TypedArray', typedArray);
  add('TypedArray.prototype', (typedArray as { prototype: object }).prototype);
  const arrayIter = Object.getPrototypeOf([][Symbol.iterator]()) as object;
  add('ArrayIterator.prototype', arrayIter);
  add('Iterator.prototype', Object.getPrototypeOf(arrayIter));
  add('MapIterator.prototype', Object.getPrototypeOf(new Map()[Symbol.iterator]()));
  add('SetIterator.prototype', Object.getPrototypeOf(new Set()[Symbol.iterator]()));
  add('StringIterator.prototype', Object.getPrototypeOf(''[Symbol.iterator]()));
  add('Decimal', Decimal);
  add('Decimal.prototype', Decimal.prototype);
  return out;
}

function copyDesc(d: PropertyDescriptor): Desc {
  const c = R.create(null);
  for (let i = 0; i < DESC_FIELDS.length; i++) {
    const f = DESC_FIELDS[i]!;
    if (R.hasOwn(d, f)) c[f] = (d as Record<string, unknown>)[f];
  }
  return c;
}

function snapObj(name: string, obj: object): ObjSnap {
  const descs = R.create(null) as Record<PropertyKey, Desc>;
  const keys: PropertyKey[] = [];
  for (const k of R.ownKeys(obj)) {
    const d = R.getDesc(obj, k);
    if (d) {
      descs[k] = copyDesc(d);
      keys.push(k);
    }
  }
  return { name, obj, descs, keys, proto: R.getProto(obj), extensible: R.isExtensible(obj) };
}

/**
 * same descriptor; `now` comes from getOwnPropertyDescriptor, which gives a data property own
 * value, writable, enumerable and configurable fields and an accessor own get, set, enumerable and
 * configurable (so the fields read below are own ones: nothing inherited can answer)
 */
function sameDesc(now: PropertyDescriptor, d: Desc): boolean {
  if (now.enumerable !== d.enumerable || now.configurable !== d.configurable) return false;
  if (R.hasOwn(now, 'value')) return d.get === undefined && d.set === undefined && now.writable === d.writable && R.is(now.value, d.value) && R.hasOwn(d, 'value');
  return d.value === undefined && d.writable === undefined && !R.hasOwn(d, 'value') && now.get === d.get && now.set === d.set;
}

const keyName = (owner: string, k: PropertyKey): string =>
  typeof k === 'symbol' ? `${owner}[${String(R.apply(R.symbolDescription, k, []) ?? 'symbol')}]` : `${owner}.${typeof k === 'string' ? k : String(k)}`;

export class RealmGuard {
  private readonly snaps: ObjSnap[];
  private readonly globals: Record<PropertyKey, Desc>;
  private readonly globalKeys: string[];

  constructor() {
    this.snaps = intrinsics().map(([n, o]) => snapObj(n, o));
    this.globals = R.create(null) as Record<PropertyKey, Desc>;
    this.globalKeys = [];
    const g = globalThis as unknown as object;
    for (const n of GLOBAL_NAMES) {
      const d = R.getDesc(g, n);
      if (d && !d.get && !d.set) {
        this.globals[n] = copyDesc(d);
        this.globalKeys.push(n);
      }
    }
  }

  /**
   * Compare the realm with the snapshot and undo every change. Returns what was changed
   * ('Math.sqrt', 'Array.prototype.evil (added)', ...), empty when nothing was.
   * Changes that cannot be undone (a frozen prototype) are reported with "(cannot be undone)".
   */
  restore(newValues?: unknown[]): string[] {
    // first undo everything using only what was captured at load (indexed loops, null-prototype storage) ...
    const found = R.create(null);
    let n = 0;
    const note = (x: string) => {
      found[n] = x;
      n = n + 1;
    };
    // what the changed keys held, when asked (a replaced function's source names who changed it:
    // definedIn); own fields only (an inherited `get` or `value` is whatever Object.prototype has now)
    const held = R.create(null);
    let h = 0;
    const keep = (d: PropertyDescriptor | undefined) => {
      if (!newValues || !d) return;
      if (R.hasOwn(d, 'value')) {
        held[h] = d.value;
        h = h + 1;
        return;
      }
      held[h] = d.get;
      held[h + 1] = d.set;
      h = h + 2;
    };
    const g = globalThis as unknown as object;
    const gk = this.globalKeys;
    for (let i = 0; i < gk.length; i++) {
      const k = gk[i]!;
      const d = this.globals[k]!;
      const now = R.getDesc(g, k);
      if (!now || !sameDesc(now, d)) {
        note(`globalThis.${k}`);
        keep(now);
        R.define(g, k, d as PropertyDescriptor);
      }
    }
    const snaps = this.snaps;
    for (let i = 0; i < snaps.length; i++) {
      const s = snaps[i]!;
      const keys = R.ownKeys(s.obj);
      for (let j = 0; j < keys.length; j++) {
        const k = keys[j]!;
        if (R.hasOwn(s.descs, k)) continue;
        const name = keyName(s.name, k);
        if (IGNORED[name]) {
          if (!R.del(s.obj, k)) note(`${name} (cannot be undone)`);
          continue;
        }
        note(`${name} (added)`);
        keep(R.getDesc(s.obj, k));
        if (!R.del(s.obj, k)) note(`${name} (cannot be undone)`);
      }
      const snapKeys = s.keys;
      for (let j = 0; j < snapKeys.length; j++) {
        const k = snapKeys[j]!;
        const d = s.descs[k]!;
        const now = R.getDesc(s.obj, k);
        if (now && sameDesc(now, d)) continue;
        const name = keyName(s.name, k);
        if (IGNORED[name]) {
          // put back silently; one made non-configurable cannot be, and then every later pass of the worker would run with it
          if (!R.define(s.obj, k, d as PropertyDescriptor)) note(`${name} (cannot be undone)`);
          continue;
        }
        note(now ? name : `${name} (deleted)`);
        keep(now);
        if (!R.define(s.obj, k, d as PropertyDescriptor)) note(`${name} (cannot be undone)`);
      }
      if (R.getProto(s.obj) !== s.proto) {
        note(`${s.name} [[Prototype]]`);
        if (!R.setProto(s.obj, s.proto)) note(`${s.name} [[Prototype]] (cannot be undone)`);
      }
      if (s.extensible && !R.isExtensible(s.obj)) note(`${s.name} (frozen or sealed; cannot be undone)`);
    }
    // ... then, with the realm clean again, build the answer
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const x = found[i] as string;
      if (!out.includes(x)) out.push(x);
    }
    for (let i = 0; newValues && i < h; i++) if (held[i] !== undefined) newValues.push(held[i]);
    return out;
  }
}

/**
 * The file of a script's URL: a file: URL (a query of tsx's taken off), a path (CommonJS), or the
 * data: URL tsx's tsImport evaluates a module as, its source starting `__filename="<path>"`.
 */
function urlFile(url: string): string | null {
  if (url.startsWith('data:')) {
    let source: string;
    try {
      source = decodeURIComponent(url.slice(url.indexOf(',') + 1));
    } catch {
      return null;
    }
    const named = /^__filename=("(?:[^"\\]|\\.)*")/.exec(source);
    return named ? urlFile(JSON.parse(named[1]!) as string) : null;
  }
  const file = url.replace(/[?#].*$/, '');
  return file.startsWith('file:') ? fileURLToPath(file) : isAbsolute(file) ? file : null;
}

/**
 * The file that defines the first of `values` that is a function with source of its own (a
 * replaced Array.prototype.map: the module that replaced it, most often), through the inspector;
 * null when none has (a value, a built-in function) or the inspector is not available.
 */
export async function definedIn(values: readonly unknown[]): Promise<string | null> {
  const fn = values.find((v) => typeof v === 'function');
  if (fn === undefined) return null;
  let inspector: typeof import('node:inspector');
  try {
    inspector = await import('node:inspector');
  } catch {
    return null;
  }
  const session = new inspector.Session();
  const key = `__marginlabDefinedIn${process.hrtime.bigint()}`;
  const g = globalThis as unknown as Record<string, unknown>;
  try {
    session.connect();
    // the session of the thread itself answers at once: each callback has run when post returns
    const post = <T>(method: string, params?: object): T | null => {
      let out: T | null = null;
      session.post(method, params, (err: Error | null, res: unknown) => {
        if (!err) out = res as T;
      });
      return out;
    };
    g[key] = fn;
    const obj = post<{ result: { objectId?: string } }>('Runtime.evaluate', { expression: `globalThis[${JSON.stringify(key)}]` });
    const objectId = obj?.result.objectId;
    if (objectId === undefined) return null;
    const props = post<{ internalProperties?: { name: string; value?: { value?: { scriptId?: string } } }[] }>('Runtime.getProperties', { objectId, ownProperties: true });
    const scriptId = props?.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value?.scriptId;
    if (scriptId === undefined) return null;
    let url: string | null = null;
    // Debugger.enable reports every script parsed so far, with its URL
    session.on('Debugger.scriptParsed', (m: { params: { scriptId: string; url: string } }) => {
      if (m.params.scriptId === scriptId) url = m.params.url;
    });
    post('Debugger.enable');
    post('Debugger.disable');
    return url === null ? null : urlFile(url);
  } catch {
    return null;
  } finally {
    delete g[key];
    session.disconnect();
  }
}

/**
 * Files whose top-level code changed shared built-ins, and the message that said so: refused
 * every time they would load again in this thread (an ES module runs once; the next import finds
 * it evaluated, the change undone). Filled by the strategy registry and a config's guard.
 */
export const tampered = new Map<string, string>();

/** The message of a run whose strategy changed shared built-ins. */
export function tamperMessage(changed: readonly string[], who = 'strategy'): string {
  const list = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
  const whose = who === 'strategy' ? 'strategies' : 'configs, strategies and the modules they import';
  return `${who} changed shared built-ins (${list}): ${whose} must not modify built-in objects (they are shared with other runs); the change was undone`;
}

// ---------------------------------------------------------------------------------------------
// timers and stray errors of the current pass

interface Pass {
  timeouts: Set<NodeJS.Timeout>;
  immediates: Set<NodeJS.Immediate>;
  errors: string[];
}
let current: Pass | null = null;
let installed = false;

/**
 * a value strategy code threw or rejected with after its callback returned, as one line; never
 * throws: `instanceof` runs a proxy's getPrototypeOf trap and `message` may be a getter (what such
 * a trap threw replaced the run's error text, e.g. 'gp')
 */
const describe = (e: unknown): string => {
  try {
    if (e instanceof Error) return String(e.message).split('\n')[0] || String(e.name);
  } catch {
    /* shown as a value below */
  }
  return thrownText(e);
};

/** what errors a pass whose code threw after one of its callbacks returned (a microtask, a timer of the pass, a rejection) */
const AFTER_CALLBACK = 'strategy code threw after its callback returned';

/**
 * An error of strategy code no callback was running (`message`, the thrown value described): during a pass, the
 * pass's, its runs errored ("strategy code threw after its callback returned: …", `prefix`); outside any pass, one
 * line on stderr as `outside`, without the prefix (no run and no callback was involved: a strategy module's top-level
 * code as it loads in this worker).
 */
function stray(message: string, outside: string, prefix = ''): void {
  if (current) current.errors.push(prefix + message);
  else process.stderr.write(`marginlab: worker: ${outside} was ignored: ${message}\n`);
}

/**
 * A timer or immediate started outside any pass: by a strategy module's top-level code, as it loads
 * in this worker (the main thread cancelled its own copy when the plan was built; here it fires
 * during a pass). What its callback throws errors that pass, saying so: it is no callback's.
 */
function moduleTimer(t: NodeJS.Timeout | NodeJS.Immediate, kind: 'Timeout' | 'Immediate'): void {
  const frame = currentUserFrame();
  if (frame === null) return;
  const key = kind === 'Timeout' ? '_onTimeout' : '_onImmediate';
  const r = t as unknown as Record<string, unknown>;
  const callback = r[key];
  if (typeof callback !== 'function') return;
  const where = `${shownPath(frame.file)}:${frame.line}`;
  r[key] = function moduleTimerCallback(this: unknown, ...args: unknown[]): unknown {
    try {
      return R.apply(callback as (...a: unknown[]) => unknown, this, args);
    } catch (err) {
      stray(
        `a ${kind === 'Timeout' ? 'timer' : 'setImmediate callback'} the strategy module's top-level code started (at ${where}) threw: ${describe(err)} ` +
          `(a module's top-level code runs again in every worker, and what it starts runs during the runs there: start nothing at the top of a strategy file)`,
        'an error outside any run',
      );
      return undefined;
    }
  };
}

/**
 * In a worker: wrap the timer functions so the timers of a pass can be cancelled when it ends,
 * catch errors thrown after a callback returned, and send console output to stderr.
 */
export function installWorkerIsolation(): void {
  if (installed) return;
  installed = true;
  noteTimers((t, kind) => {
    if (current === null) return moduleTimer(t, kind);
    if (kind === 'Timeout') current.timeouts.add(t as NodeJS.Timeout);
    else current.immediates.add(t as NodeJS.Immediate);
  });
  process.on('uncaughtException', (err) => stray(describe(err), 'an error outside any run', `${AFTER_CALLBACK}: `));
  process.on('unhandledRejection', (reason) => {
    // a strategy module's import error, rejected by Node a second time (util/user-import.ts): reported by the load
    if (isImportFault(reason)) return;
    stray(`unhandled promise rejection: ${describe(reason)}`, 'an unhandled rejection outside any run', `${AFTER_CALLBACK}: `);
  });
  routeConsoleToStderr();
  refuseSelfSignals();
}

/**
 * In a worker: `process.kill(process.pid)` (or `process.kill(0)`, the process group) throws instead of signalling. A
 * worker thread shares marginlab's process: the signal stopped the whole sweep as a Ctrl-C does (exit 130, every run
 * with it, "0 of N runs finished"), again on every `--resume` it told to run. Now the pass that called it errors with
 * its message and location, as a `process.exit()` ends only its worker. Signal 0 (is the process alive?) and other
 * processes' pids go to the real call.
 */
function refuseSelfSignals(): void {
  const real = process.kill;
  process.kill = function kill(pid: number, signal?: string | number): true {
    const call = selfSignalCall(pid, signal);
    if (call !== null) {
      throw new Error(
        // (no pid in the text: it is part of the run's result, the same from run to run)
        `${call} would signal marginlab's own process, which runs every run of the sweep (strategies run in its worker threads): throw an Error to stop a run`,
      );
    }
    return R.apply(real, process, [pid, signal]) as true;
  };
}

/** Start a pass: timers and stray errors from now on are its own. */
export function beginPass(): void {
  current = { timeouts: new Set(), immediates: new Set(), errors: [] };
}

/**
 * End a pass: let pending microtasks and immediates run (their errors are the pass's), cancel every
 * timer it created, and return the errors attributed to it.
 */
export async function endPass(): Promise<string[]> {
  const pass = current;
  if (!pass) return [];
  await new Promise<void>((res) => setImmediateReal(res));
  for (const t of pass.timeouts) clearTimeout(t);
  for (const t of pass.immediates) clearImmediate(t);
  current = null;
  return pass.errors;
}

const setImmediateReal = realTimers.setImmediate;

