/**
 * Ctrl-C (SIGINT) and SIGTERM for every command (docs/scaling.md, "Interrupted commands").
 *
 * The CLI installs one handler (installInterruptHandler, src/cli/main.ts). Code that makes a temp
 * file or folder registers it (trackTemp) until it is renamed into place or removed; an open output
 * folder registers what to do with it (onInterrupt: src/util/outdir.ts removes a folder this
 * command created and left empty, and gives its lock back). On a signal the handler removes every
 * registered temp path, runs the hooks, prints one line saying what is left, and exits 130.
 *
 * `run` stops its sweep softly instead (setSoftStop): the first signal asks the sweep to stop
 * (finished results are kept, its manifest says "interrupted"); a second one, or a signal after the
 * sweep (while the report is written), is handled as above.
 *
 * A handler runs only when the event loop turns: long synchronous stretches (a synthetic dataset,
 * a report file) give it a turn now and then (yieldToSignals). Whatever a killed process (SIGKILL,
 * power loss) leaves is removed by the next command that locks the folder (src/util/outdir.ts,
 * removeStaleTemps).
 */
import { readdirSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { ExitCode } from '../errors.js';

/**
 * process.exit as it was when marginlab started. Config code runs with process.exit replaced (a
 * config that calls it gets a config error: src/config, guardConfigCode), and marginlab's own exits
 * in that time (a Ctrl-C while the config loads, a closed pipe) must still end the process.
 */
export const exitProcess: (code?: number) => never = process.exit.bind(process);

/** the threads (Linux thread ids) of workers stopped mid-run by a time limit */
const stoppedThreads = new Set<number>();

/**
 * The worker running on thread `tid` (Linux thread id; 0: unknown, nothing done) was stopped mid-run
 * by its time limit: its code may be blocked in a synchronous child process (`execSync('…')`), which
 * stopping the worker cannot interrupt. Node's exit (process.exit or the event loop's end) waits for
 * every thread, so the command would end, with its exit code, only when that child does (a
 * `sleep 600`, or never). The process's exit ends that thread's child processes still running first
 * (its 'exit' event comes before Node waits for the threads).
 */
export function reapChildProcessesAtExit(tid: number): void {
  if (!(tid > 0)) return;
  if (stoppedThreads.size === 0) process.on('exit', endChildProcesses);
  stoppedThreads.add(tid);
}

/** this thread's Linux thread id (/proc/thread-self), 0 elsewhere */
export function ownThreadId(): number {
  try {
    return Number(/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The child processes the stopped workers' threads started, and their descendants, SIGKILLed with one line naming them. */
function endChildProcesses(): void {
  // the children a process's threads (or one thread of this process) started
  const childrenOf = (proc: number): number[] =>
    readdirSync(`/proc/${proc}/task`).flatMap((tid) => childrenFile(`/proc/${proc}/task/${tid}/children`));
  const childrenFile = (path: string): number[] =>
    readFileSync(path, 'utf8')
      .split(/\s+/)
      .filter((pid) => /^\d+$/.test(pid))
      .map(Number);
  const pids: number[] = [];
  for (const tid of stoppedThreads) {
    try {
      pids.push(...childrenFile(`/proc/self/task/${tid}/children`));
    } catch {
      // the thread has ended, or no children file (a kernel without it): nothing known to end
    }
  }
  // and their descendants: execSync's shell waits on its command (sleep 600), whose output pipe keeps the worker waiting
  for (let i = 0; i < pids.length && pids.length < 1000; i++) {
    try {
      for (const pid of childrenOf(pids[i]!)) if (!pids.includes(pid)) pids.push(pid);
    } catch {
      // ended meanwhile
    }
  }
  const ended = pids.filter((pid) => {
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  });
  if (ended.length === 0) return;
  try {
    writeSync(2, `marginlab: ended ${ended.length === 1 ? 'a process' : `${ended.length} processes`} (pid ${ended.join(', ')}) that a strategy's code started from a run stopped by its time limit and that ${ended.length === 1 ? 'was' : 'were'} still running: its worker, waiting on ${ended.length === 1 ? 'it' : 'them'} (execSync), would have kept marginlab from exiting until ${ended.length === 1 ? 'it' : 'they'} ended\n`);
  } catch {
    // stderr closed: the exit goes on
  }
}

const temps = new Set<string>();
/** hooks run on an interrupt, newest first; each may return a sentence for the closing line */
const hooks: (() => string | null | void)[] = [];
let softStop: (() => void) | null = null;
let signals = 0;
let installed = false;
let pipeClosed = false;

/** Register a temp file or folder this process made; call the returned function once it is renamed or removed. */
export function trackTemp(path: string): () => void {
  temps.add(path);
  return () => {
    temps.delete(path);
  };
}

/** Run `hook` on an interrupt (before exit 130); returns the function that unregisters it. */
export function onInterrupt(hook: () => string | null | void): () => void {
  hooks.push(hook);
  return () => {
    const i = hooks.lastIndexOf(hook);
    if (i >= 0) hooks.splice(i, 1);
  };
}

/** While set, the first signal calls `stop` instead of ending the process (run's sweep). */
export function setSoftStop(stop: (() => void) | null): void {
  softStop = stop;
  if (stop) signals = 0;
}

/** Give a pending Ctrl-C its turn (between batches of a long synchronous job). */
export function yieldToSignals(): Promise<void> {
  return new Promise((res) => setImmediate(res));
}

/**
 * Give a Ctrl-C that came during a long synchronous stretch its turn before a step that cannot be taken back (files
 * put in place, a folder's results cleared): two turns, as the first may run in the check phase of the poll that came
 * before the signal.
 */
export async function signalsBeforeCommit(): Promise<void> {
  await yieldToSignals();
  await yieldToSignals();
}

/** Remove every registered temp path and run the hooks; returns the hooks' sentences and how many temp paths were removed. */
export function cleanUpForInterrupt(): { removed: number; notes: string[] } {
  let removed = 0;
  for (const p of [...temps]) {
    try {
      rmSync(p, { recursive: true, force: true });
      removed++;
    } catch {
      /* the next command that locks the folder removes it (removeStaleTemps) */
    }
    temps.delete(p);
  }
  const notes: string[] = [];
  for (const hook of hooks.splice(0).reverse()) {
    try {
      const note = hook();
      if (typeof note === 'string' && note) notes.push(note);
    } catch {
      /* an interrupt must end the process whatever a hook does */
    }
  }
  return { removed, notes };
}

function onSignal(signal: NodeJS.Signals): void {
  signals++;
  if (softStop && signals === 1) {
    softStop();
    return;
  }
  endAfterCleanUp(`interrupted (${signal})`, ExitCode.INTERRUPTED);
}

/**
 * End the process as an interrupt does (an interrupt, a time limit passed: src/util/time-limit.ts):
 * remove the temp paths and run the hooks (cleanUpForInterrupt), print `marginlab: <what>` and what
 * is left, exit `code`. `sayNoTemps`: also say when no temp file was left.
 */
export function endAfterCleanUp(what: string, code: number, sayNoTemps = true): never {
  const { removed, notes } = cleanUpForInterrupt();
  const temp = removed > 0 ? '; its temp files are removed' : sayNoTemps ? '; no temp files are left' : '';
  const line = `marginlab: ${what}${temp}${notes.length ? `; ${notes.join('; ')}` : ''}\n`;
  try {
    process.stderr.write(line);
  } catch {
    /* stderr closed */
  }
  return exitProcess(code);
}

/**
 * Our stdout or stderr was closed by its reader (`marginlab run --json | head -2`): a `run` or `stress` sweep stops
 * as on a first Ctrl-C (finished results kept, its manifest "interrupted", exit 130, `--resume` goes on); a command
 * with temp files or an output folder open ends as on an interrupt (they are removed, its lock given back, 130);
 * any other (`strategies | head -3`) ends quietly with its exit code so far. A sweep used to end with exit 0 and a
 * folder of some of its results and no report, its manifest still "in progress".
 */
export function onClosedPipe(codeSoFar: number): void {
  // once: the other stream closing too (`2>&1 | head -1`: one reader) must not turn a soft stop into a hard one
  if (pipeClosed) return;
  pipeClosed = true;
  if (softStop && signals === 0) {
    signals++;
    softStop();
    return;
  }
  if (softStop || temps.size > 0 || hooks.length > 0) endAfterCleanUp('stopped: its output was closed by the reader (a pipe ended early)', ExitCode.INTERRUPTED, false);
  exitProcess(codeSoFar);
}

/** Install the handler of SIGINT and SIGTERM (once, by the CLI). */
export function installInterruptHandler(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
