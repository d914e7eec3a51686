/**
 * The replay engine (DESIGN §4): `replay` runs one strategy under several account setups in one
 * pass over the bars. ENGINE_VERSION is part of every RunId.
 */
export { replay, ENGINE_VERSION } from './replay.js';
export type {
  ExecutionOptions,
  ReplayOutput,
  ReplayParams,
  SetupOutput,
  SetupSeries,
  SetupSpec,
} from './types.js';

import type { ExecutionOptions, SetupSpec } from './types.js';

/** Default execution options: no slippage, no participation cap, nearest-extreme-first path, pessimistic cross check. */
export const DEFAULT_EXECUTION: ExecutionOptions = Object.freeze({
  slippageBps: 0,
  participation: null,
  intrabarPath: 'nearest-first',
  crossCheck: 'pessimistic',
}) as ExecutionOptions;

/** The standard setups: 'isolated', 'cross', and 'mixed' (cross by default, strategies choose per order). */
export const SETUPS: Readonly<Record<SetupSpec['id'], SetupSpec>> = Object.freeze({
  isolated: { id: 'isolated', defaultMode: 'isolated', perOrderMode: false },
  cross: { id: 'cross', defaultMode: 'cross', perOrderMode: false },
  mixed: { id: 'mixed', defaultMode: 'cross', perOrderMode: true },
});
