/**
 * Which frame of a stack is user code: the first one outside marginlab's own modules (src/ or
 * dist/src/, bin/, scripts/), Node's internals and packages (node_modules). The one home of that
 * test: a strategy's line that threw (engine/runner-state.ts strategyFrame), where user code started
 * a timer (util/time-limit.ts).
 */
import { isAbsolute, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from './package-root.js';

/** marginlab's own code: its modules' folder (this file's parent's parent), bin/ and scripts/ */
const OWN_DIRS = [fileURLToPath(new URL('../', import.meta.url)), join(PACKAGE_ROOT, 'bin') + sep, join(PACKAGE_ROOT, 'scripts') + sep];

/** the first frame of `stack` in user code: its file (a path), line and column; null when none */
export function firstUserFrame(stack: string): { file: string; line: string; column: string } | null {
  for (const text of stack.split('\n')) {
    // `at fn (location)` or `at location`; the location a file URL or an absolute path (POSIX or Windows)
    const m = /^\s*at (?:.*\()?(.+?):(\d+):(\d+)\)?\s*$/.exec(text);
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    if (!isAbsolute(file) || OWN_DIRS.some((d) => file.startsWith(d)) || /[\\/]node_modules[\\/]/.test(file)) continue;
    return { file, line: m[2]!, column: m[3]! };
  }
  return null;
}

/**
 * The first frame in user code of the stack calling this (up to 64 frames deep, whatever
 * Error.stackTraceLimit is): where user code started a timer, called process.exit; null when none.
 */
export function currentUserFrame(): { file: string; line: string; column: string } | null {
  const depth = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = depth;
  return firstUserFrame(stack);
}

/** whether `stack` names a frame outside Node's own modules (`node:…`): marginlab's, a package's, user code's */
export function hasCodeFrame(stack: string): boolean {
  return stack.split('\n').some((text) => {
    const m = /^\s*at (?:.*\()?(.+?):(\d+):(\d+)\)?\s*$/.exec(text);
    return m !== null && !m[1]!.startsWith('node:');
  });
}
