/**
 * The one home of the account setups and of the execution defaults. The user-facing word is
 * "mode" (reports: isolated / cross / mixed); the code says "setup". The config schema, the run
 * plan, the reports and `replay()` all read these, so `replay()` and `marginlab run` agree on a run
 * that states nothing.
 */
import type { ExecutionOptions, SetupSpec } from './types.js';

/** the setups in their canonical order (plans, reports, result folders) */
export const SETUP_IDS = ['isolated', 'cross', 'mixed'] as const;
export type SetupId = (typeof SETUP_IDS)[number];

/** The standard setups: 'isolated', 'cross', and 'mixed' (cross by default, strategies choose per order). */
export const SETUPS: Readonly<Record<SetupId, SetupSpec>> = Object.freeze({
  isolated: Object.freeze({ id: 'isolated', defaultMode: 'isolated', perOrderMode: false }),
  cross: Object.freeze({ id: 'cross', defaultMode: 'cross', perOrderMode: false }),
  mixed: Object.freeze({ id: 'mixed', defaultMode: 'cross', perOrderMode: true }),
}) as Readonly<Record<SetupId, SetupSpec>>;

/** position of a setup in SETUP_IDS (for sorting) */
export function setupRank(id: SetupId): number {
  return SETUP_IDS.indexOf(id);
}

/**
 * Default execution options of every entry point (config `execution`, `replay()`): 1 bp slippage
 * on market / stop / take-profit fills, no participation cap, nearest-extreme-first path,
 * pessimistic cross check.
 */
export const DEFAULT_EXECUTION: Readonly<ExecutionOptions> = Object.freeze({
  slippageBps: 1,
  participation: null,
  intrabarPath: 'nearest-first',
  crossCheck: 'pessimistic',
});

/** the intrabar paths and cross checks an execution may name (config schema, `replay()`) */
export const INTRABAR_PATHS = ['nearest-first', 'high-first', 'low-first'] as const;
export const CROSS_CHECKS = ['pessimistic', 'optimistic'] as const;

/** slippage is in [0, MAX_SLIPPAGE_BPS) basis points, in the config and in `replay()` alike (10,000 bp would price a sell at 0) */
export const MAX_SLIPPAGE_BPS = 10_000;

/**
 * The SetupSpec of a planned run: the setup's id and the mode of positions whose order names none
 * (`mixed` takes the config's `mixedDefaultMode`); whether orders choose their own mode follows
 * from the id (SetupSpec.perOrderMode defaults to true only for 'mixed').
 */
export function setupSpec(id: SetupId, mixedDefaultMode: 'isolated' | 'cross'): SetupSpec {
  return { id, defaultMode: id === 'mixed' ? mixedDefaultMode : id };
}
