/**
 * console.* and process.stdout.write of user code sent to stderr: stdout carries marginlab's own
 * output (`--json` events, one JSON object per line; `strategies --json`). The one home of it: a
 * worker for good (shard/isolation.ts), the strategy registry while a module loads, the CLI while
 * the config's or a strategy's code runs on its main thread (util/time-limit.ts withTimeLimit and the
 * timers that code starts).
 */
import { Console } from 'node:console';

/** Route console.* and process.stdout.write to stderr; returns what puts both back as they were. */
export function consoleToStderr(): () => void {
  const g = globalThis as unknown as { console: Console };
  const before = g.console;
  const stdoutWrite = process.stdout.write;
  g.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return () => {
    process.stdout.write = stdoutWrite;
    g.console = before;
  };
}

/** console.* and process.stdout.write go to stderr from now on (a worker: stdout carries the --json stream). */
export function routeConsoleToStderr(): void {
  consoleToStderr();
}

/** runs `fn` with console and stdout routed to stderr, then puts both back */
export async function withConsoleOnStderr<T>(fn: () => Promise<T>): Promise<T> {
  const restore = consoleToStderr();
  try {
    return await fn();
  } finally {
    restore();
  }
}
