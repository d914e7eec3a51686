/**
 * What the code of a config or a strategy does on the CLI's main thread that used to end marginlab
 * silently or with Node's stack trace: `process.exit()` (the command ended with the user's exit code,
 * no line, an output folder holding only its lock file), an error thrown in a timer, a microtask or an
 * event listener that no code catches, a promise rejected that no code handles, an 'error' event of
 * a stream nobody listens to. The CLI installs the guards once (installUserFaultGuards,
 * src/cli/main.ts), for every piece of user code that runs on its main thread: the config (its
 * top-level code, its function, the timers it starts), the strategy modules, their params schemas and
 * symbols(params). Such a fault ends the command as an interrupt does (src/util/interrupt.ts
 * endAfterCleanUp: temp files removed, an output folder the command made and left empty removed, its
 * lock given back, a run's finished results kept), with one line naming the user's file and exit 78.
 * A fault of marginlab's own code is an internal error (70), as one thrown by a command.
 *
 * Inside the config's own guard (src/config, guardConfigCode) process.exit and the rejections the
 * config leaves are refused there, with messages of their own; a library caller's process is left as
 * it is (nothing is installed).
 */
import { ExitCode } from '../errors.js';
import { cleanUpForInterrupt, endAfterCleanUp, exitProcess } from './interrupt.js';
import { excerpt, thrownText } from './excerpt.js';
import { shownPath } from './module-default.js';
import { currentUserFrame, firstUserFrame, hasCodeFrame } from './user-frame.js';
import { isImportFault } from './user-import.js';
import { timerStartedAt } from './time-limit.js';
import { selfSignalCall } from './self-signal.js';

/** the user files whose code ran on this thread, the latest last, each with who it is ("the config", "strategy 'x'") */
const userFiles = new Map<string, string>();
/** guards that collect the rejections of the code they run themselves (a config's: guardConfigCode) */
let collectors = 0;
let installed = false;

/** Note that the code of `file` runs on this thread (`who`: "the config", "strategy 'x'"): a fault no stack names is said to come from it. */
export function noteUserCode(file: string, who: string): void {
  userFiles.delete(file);
  userFiles.set(file, who);
}

/**
 * A guard takes the unhandled rejections of the code it runs (src/config guardConfigCode: "the config left a
 * rejected promise unhandled") until the returned function is called.
 */
export function collectRejections(): () => void {
  collectors++;
  let done = false;
  return () => {
    if (!done) collectors--;
    done = true;
  };
}

const whoOf = (file: string): string => userFiles.get(file) ?? 'code of the config or a strategy (or a module it imports)';

/** the user files that ran on this thread, the latest first, as a line names them */
const ranHere = (): string =>
  [...userFiles]
    .reverse()
    .map(([file, who]) => `${shownPath(file)} (${who})`)
    .join(', ');

function stackOf(err: unknown): string | null {
  try {
    return err instanceof Error && typeof err.stack === 'string' ? err.stack : null;
  } catch {
    // a proxy's trap, a throwing getter
    return null;
  }
}

/**
 * End the command for an error or a rejection no code handled: user code's (its stack names a user
 * file; or Node's own error on its behalf, with no frame of any code, such as a stream's 'error' event,
 * when user code ran on this thread) is 78, naming the file; anything else is marginlab's (70).
 */
function onFault(err: unknown, rejected: boolean, internal: (err: unknown) => number): void {
  if (rejected && (isImportFault(err) || collectors > 0)) return;
  const stack = stackOf(err);
  const text = excerpt((thrownText(err).split('\n')[0] ?? '') || 'an empty value', 300);
  let frame = stack === null ? null : firstUserFrame(stack);
  // a timer user code started, whose callback (a package's, say) threw: named by where it was started
  const started = frame === null ? timerStartedAt(err) : null;
  const at = started === null ? null : /^(.*):(\d+)$/.exec(started);
  if (at) frame = { file: at[1]!, line: at[2]!, column: '0' };
  if (frame !== null) {
    const what = rejected
      ? `left a promise rejected with no handler: ${text}; handle it (await it inside try/catch, or .catch())`
      : at
        ? `started a timer here (in its own code or a package's it calls) whose callback threw outside any call of marginlab's: ${text}; catch the error in that callback, or handle the package's errors`
        : `threw outside any call of marginlab's (in a timer, a microtask or an event listener it started): ${text}; catch it there`;
    endAfterCleanUp(`${shownPath(frame.file)}:${frame.line}: ${whoOf(frame.file)} ${what}`, ExitCode.CONFIG, false);
  }
  if ((stack === null || !hasCodeFrame(stack)) && userFiles.size > 0) {
    endAfterCleanUp(
      `${rejected ? 'a promise rejected with no handler' : 'an error no code handled'} came from Node on behalf of the code of the config or a strategy ` +
        `(an 'error' event of a stream or socket with no 'error' listener, most often): ${text}; code that ran on this thread: ${ranHere()}; handle the error there`,
      ExitCode.CONFIG,
      false,
    );
  }
  cleanUpForInterrupt();
  exitProcess(internal(err));
}

/**
 * Install the guards on this process (the CLI, once): process.exit (and process.kill of marginlab's own process) called by user code is refused (the
 * command ends with one line naming the file and the line, exit 78; marginlab's own exits go through
 * util/interrupt.ts exitProcess); an uncaught error or an unhandled rejection ends the command (see
 * onFault). `internal`: what reports an error of marginlab's own and gives the exit code (src/cli/main.ts reportError).
 */
export function installUserFaultGuards(internal: (err: unknown) => number): void {
  if (installed) return;
  installed = true;
  process.exit = ((code?: number | string | null) => {
    const frame = currentUserFrame();
    if (frame === null) return exitProcess(code as number | undefined);
    return endAfterCleanUp(
      `${shownPath(frame.file)}:${frame.line}: ${whoOf(frame.file)} called process.exit(${code ?? ''}); the code of a config or a strategy must not end the process (throw an Error to stop with a message)`,
      ExitCode.CONFIG,
      false,
    );
  }) as typeof process.exit;
  // process.kill(process.pid) (or 0, the process group; −pid; −1, every process it may signal) from user code: a signal to marginlab's own process, which
  // stopped the command as a Ctrl-C does (130, "interrupted before any run started"); refused as process.exit() is.
  // Signal 0 (is it alive?), other processes and marginlab's own calls (no user frame) go to the real call
  const kill = process.kill;
  process.kill = function killGuard(pid: number, signal?: string | number): true {
    const call = selfSignalCall(pid, signal);
    if (call !== null) {
      const frame = currentUserFrame();
      if (frame !== null) {
        return endAfterCleanUp(
          `${shownPath(frame.file)}:${frame.line}: ${whoOf(frame.file)} called ${call}, a signal to marginlab's own process; the code of a config or a strategy must not end the process (throw an Error to stop with a message)`,
          ExitCode.CONFIG,
          false,
        );
      }
    }
    return Reflect.apply(kill, process, [pid, signal]) as true;
  };
  process.on('uncaughtException', (err) => onFault(err, false, internal));
  process.on('unhandledRejection', (reason) => onFault(reason, true, internal));
}
