/**
 * The `marginlab` command line. Every file in ./commands exports `register(program)`, which adds
 * its commands to the program; command modules stay light at import time and load heavy modules
 * (arrow, danfo, piscina) inside their actions.
 *
 * Outcomes map to the exit codes of DESIGN §10: a UserError prints one line (plus its details)
 * and exits with its code; anything else is an internal error (70) and prints its stack only
 * when MARGINLAB_DEBUG is set.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ExitCode, UserError, usageError } from '../errors.js';
import { packageVersion } from '../util/package-root.js';
import { endAfterCleanUp, exitProcess, installInterruptHandler, onClosedPipe } from '../util/interrupt.js';
import { endHelperThreads } from '../util/helper-threads.js';
import { cancelUserTimers, enableTimeLimits, limitText, type ExpiryReason, type TimeLimit } from '../util/time-limit.js';
import { thrownText, visible } from '../util/excerpt.js';
import { cliCommand } from '../util/shell.js';
import { installUserFaultGuards } from '../util/user-faults.js';

export interface CommandModule {
  register(program: Command): void;
}

async function buildProgram(): Promise<Command> {
  const program = new Command();
  program
    .name('marginlab')
    .description('Backtest crypto perpetual-futures strategies under isolated and cross margin, side by side.')
    .version(packageVersion())
    .exitOverride();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('_'))
    .sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
  for (const c of allCommands(program)) oneLineUsageErrors(c);
  return program;
}

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap((s) => allCommands(s))];
}

/** `marginlab data synth`, the way a user types the command */
function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

/**
 * A usage error of commander (unknown option or command, missing argument) is one line like
 * marginlab's own: `marginlab: unknown option '--wokers' (did you mean --workers?); see npx marginlab run --help`,
 * not commander's "error: ..." followed by the whole help. And an option that takes a value given
 * twice (`--workers 1 --workers 2`) is refused (64) instead of the last one silently winning,
 * and so is an empty value (`--out "$UNSET"`); a list option (`--fail-on <rules...>`) may be repeated.
 */
function oneLineUsageErrors(c: Command): void {
  const sub = commandPath(c).replace(/^marginlab ?/, '');
  const help = `see ${cliCommand(`${sub ? `${sub} ` : ''}--help`)}`;
  c.showHelpAfterError(false);
  c.configureOutput({
    outputError: (str, write) => {
      const text = str
        .trim()
        .replace(/^error: /, '')
        .replace(/\s*\(Did you mean (.+)\?\)$/s, ' (did you mean $1?)')
        .replace(/\s*\n\s*/g, ' ')
        .replace(/\.$/, '');
      // a command of marginlab's own under another (`marginlab data import`: import is not a data command)
      const unknown = /^unknown command '([^']+)'$/.exec(text)?.[1];
      let root: Command = c;
      while (root.parent) root = root.parent;
      if (unknown !== undefined && root !== c && root.commands.some((x) => x.name() === unknown)) {
        write(`marginlab: unknown command '${unknown}' of '${sub}'; did you mean \`${cliCommand(`${unknown} --help`)}\`? ('${unknown}' is a command of its own)\n`);
        return;
      }
      write(`marginlab: ${text}; ${help}\n`);
    },
  });
  for (const o of c.options) {
    if (o.variadic || !(o.required || o.optional)) continue;
    const given: string[] = [];
    c.on(`option:${o.name()}`, (val: string) => {
      // --out "" (an unset shell variable): not the default folder, silently
      // (a --delimiter of whitespace is a value: a tab typed as $'\t', a space)
      if (typeof val === 'string' && (val === '' || (val.trim() === '' && o.long !== '--delimiter'))) throw usageError(`${o.long ?? o.short}: expected a value, got an empty string`);
      given.push(val);
      if (given.length === 2) throw usageError(`${o.long ?? o.short} given twice ('${given[0]}', then '${given[1]}'): give it once`);
    });
  }
}

export function reportError(err: unknown): number {
  if (err instanceof UserError) {
    // one line each, whatever a name in it holds (a file named 'bad\nname.csv' split the message over four lines; an ESC
    // sequence or a bidi control in a path recoloured the terminal or reversed the line): control characters shown as escapes
    process.stderr.write(`marginlab: ${visible(err.message)}\n`);
    for (const d of err.details) process.stderr.write(`  ${visible(d)}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    // commander already printed its message. `--help` and `--version` are answers (0); the help
    // commander prints on stderr for a missing command (`marginlab`, `marginlab data`) is a usage
    // error (64), so a script with a dropped command word fails instead of passing silently
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0)) return ExitCode.OK;
    return ExitCode.USAGE;
  }
  const e = err instanceof Error ? err : new Error(thrownText(err));
  process.stderr.write(`marginlab: internal error: ${visible(e.message)}\n`);
  if (process.env.MARGINLAB_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
  else process.stderr.write('  (set MARGINLAB_DEBUG=1 for the stack trace; please report it)\n');
  return ExitCode.INTERNAL;
}

/**
 * A reader that stops early (`marginlab strategies | head -3`) closes our stdout: the next write
 * fails with EPIPE. That is not an error of ours: end quietly with the exit code so far.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    // what is written to it from now on goes nowhere (a stopping sweep still says what it kept, on the other stream)
    stream.write = (() => true) as typeof stream.write;
    // (once for both streams: onClosedPipe)
    onClosedPipe(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK);
  });
}

/**
 * What ends a command whose config or strategy code ran past its time limit on this thread (the
 * watchdog has stopped that code): as an interrupt, the temp files and the output folder's lock
 * are given back; one line; exit 78.
 */
function endOnTimeLimit(what: string, limit: TimeLimit, reason: ExpiryReason): void {
  endAfterCleanUp(
    reason === 'idle'
      ? `${what} waits for something that never comes (a promise nothing left in the process can settle), so marginlab stopped it`
      : `${what} ran for more than ${limitText(limit)} without returning, so marginlab stopped it: ` +
        `look for a loop that never ends or a wait that never finishes there (or raise ${limit.key.split(' ')[0]} if it is only slow)`,
    ExitCode.CONFIG,
    false,
  );
}

async function main(): Promise<void> {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  // Ctrl-C and SIGTERM: every command removes its temp files and its lock, says so, exits 130
  installInterruptHandler();
  // the config's and the strategies' code run here before a sweep under a time limit (src/util/time-limit.ts)
  enableTimeLimits(endOnTimeLimit);
  // process.exit(), an uncaught error or an unhandled rejection of that code: one line naming its file, exit 78 (src/util/user-faults.ts)
  installUserFaultGuards(reportError);
  let code: number;
  try {
    const program = await buildProgram();
    await program.parseAsync(process.argv);
    code = typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (err) {
    code = reportError(err);
  }
  process.exitCode = code;
  // no helper thread of ours is left starting up or stopping while the process ends (src/util/helper-threads.ts)
  await endHelperThreads();
  // what the config's or a strategy's code left scheduled on this thread does not run after the command
  cancelUserTimers();
  endWhenLeftRunning(code);
}

/**
 * A finished command ends even when code of the config or a strategy left something on this thread
 * that keeps the event loop alive (a setInterval, an open socket, a timer: `run` finished its sweep
 * and never exited). marginlab's own (the pool's threads stopping, output to a slow reader) gets its
 * turn first: the timer is unref'd, so it fires only while something else keeps the process alive,
 * and only once the output is written.
 */
function endWhenLeftRunning(code: number): void {
  const end = (): void => {
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) {
      setTimeout(end, 200).unref();
      return;
    }
    exitProcess(typeof process.exitCode === 'number' ? process.exitCode : code);
  };
  setTimeout(end, 1000).unref();
}

/**
 * main() is called, not awaited at the module's top level: a module with a top-level await goes through V8's async
 * module evaluation (SourceTextModule::ExecuteAsyncModule), where Node 20–25 abort at random, rarely, with "Check
 * failed: (location_) != nullptr" (SIGTRAP, no exit code: nodejs/node#53238, #60755; one command of a CI run's ≈ 400
 * did). No module of the command's own has one. What the top-level await also gave — a command whose promise never
 * settles while nothing is left to run exits 13, not 0 — is kept: 70 with one line.
 */
let settled = false;
process.once('exit', () => {
  if (settled || process.exitCode !== undefined) return;
  process.stderr.write('marginlab: internal error: the command ended before it finished (nothing was left to run while it waited); run it again, and report it if it recurs\n');
  process.exitCode = ExitCode.INTERNAL;
});
main().then(
  () => {
    settled = true;
  },
  (err: unknown) => {
    settled = true;
    process.exitCode = reportError(err);
  },
);
