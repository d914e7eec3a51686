/**
 * Exit codes (DESIGN §10) and the error type for problems a user can cause.
 * A UserError is printed as one line (no stack trace) and mapped to its exit code by the CLI.
 */
import { freezeClass } from './util/freeze.js';

export const ExitCode = {
  OK: 0,
  /** some runs failed, or a gate failed */
  FAILED: 1,
  /** bad command line */
  USAGE: 64,
  /** bad data (validation failed) */
  DATA: 65,
  /** a named input file or folder does not exist */
  NO_INPUT: 66,
  /** a bug in marginlab */
  INTERNAL: 70,
  /** bad configuration */
  CONFIG: 78,
  /** interrupted by the user (Ctrl-C) */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * What a UserError is about, where a caller must tell it apart from others of its exit code (it
 * crosses threads with the error: util/thread-error.ts). `emptyWindow`: a dataset holds no bar in
 * the selected time window; `injectOutsideWindow`: a stress.inject.at date outside it (the CLI says
 * either as the problem of --from/--to when a flag set the window); `unknownStrategy`: no strategy
 * folder holds a strategy of that name (a name given with --strategies is the flag's problem, 64);
 * `duplicateStrategy`: two strategy folders hold a file of one name (the folders' problem, whichever
 * strategy was being looked up); `strategyFileName`: a strategy folder holds a file whose name holds a control character
 * (the folders' problem too); `datasetSymbols`, `datasetTimeframe`: the symbols or the timeframe asked of a dataset are not
 * a selection it can give (a symbol it lacks or one listed twice, a timeframe without candles: 78, the message naming
 * the flag that chose them when one did).
 */
export const USER_ERROR_REASONS = ['emptyWindow', 'injectOutsideWindow', 'unknownStrategy', 'duplicateStrategy', 'strategyFileName', 'datasetSymbols', 'datasetTimeframe'] as const;
export type UserErrorReason = (typeof USER_ERROR_REASONS)[number];

export class UserError extends Error {
  readonly exitCode: ExitCodeValue;
  /** Further lines (e.g. every validation problem), printed after the message. */
  readonly details: readonly string[];
  /** what the error is about, for a caller that handles one kind (null: nothing to tell apart) */
  readonly reason: UserErrorReason | null;
  constructor(message: string, exitCode: ExitCodeValue, details: readonly string[] = [], reason: UserErrorReason | null = null) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
    this.details = details;
    this.reason = reason;
  }
}

export const dataError = (message: string, details: readonly string[] = []) =>
  new UserError(message, ExitCode.DATA, details);
export const configError = (message: string, details: readonly string[] = []) =>
  new UserError(message, ExitCode.CONFIG, details);
export const usageError = (message: string, details: readonly string[] = []) =>
  new UserError(message, ExitCode.USAGE, details);
export const missingInput = (message: string, details: readonly string[] = []) =>
  new UserError(message, ExitCode.NO_INPUT, details);

// one per worker, reachable from a strategy (through createAccount, the context or the package entry):
// frozen so that a strategy changing it cannot change the later runs of its worker (src/engine/context.ts)
freezeClass(UserError);
Object.freeze(ExitCode);
