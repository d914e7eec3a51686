/**
 * Commands marginlab prints for the user to copy (`cd …`, `marginlab report …`, `--resume …`): each
 * argument one shell word, so a path with spaces, quotes or non-ASCII letters pastes as it is.
 */
import { shownPath } from './module-default.js';

/** a shell word: as it is when plain, else in single quotes */
export function shellArg(x: string): string {
  return /^[\w@%+=:,./-]+$/.test(x) ? x : `'${x.replace(/'/g, "'\\''")}'`;
}

/**
 * A marginlab command to print for copying: `npx marginlab <args>`, which runs in a project that
 * installed marginlab (where a bare `marginlab` is not on the PATH: "command not found"), in this
 * repository, and with a global install alike.
 */
export function cliCommand(args: string): string {
  return `npx marginlab ${args}`;
}

/** a path as one shell word, relative to the working folder (`cwd`) when inside it */
export function shellPath(file: string, cwd = process.cwd()): string {
  return shellArg(shownPath(file, cwd));
}
