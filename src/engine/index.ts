/**
 * The replay engine (DESIGN §4): `replay` runs one strategy under several account setups in one
 * pass over the bars. ENGINE_VERSION is part of every RunId.
 */
export { replay, ENGINE_VERSION, retainLastReplay } from './replay.js';
export { EngineInvariantError } from './types.js';
export { SeriesPool } from './market.js';
export type {
  ExecutionOptions,
  ReplayOutput,
  ReplayParams,
  SetupOutput,
  SetupSeries,
  SetupSpec,
  StrategyCallback,
  StrategyErrorPlace,
} from './types.js';

export { DEFAULT_EXECUTION, SETUPS, SETUP_IDS, setupRank, type SetupId } from './setups.js';
