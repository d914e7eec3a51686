/**
 * A setup's ledger as its account recorded it (account/fill-log.ts Ledger), for the result records
 * (src/shard/records.ts): a replay of tens of thousands of fills builds each fill's record from the
 * account's columns without building its AccountEvent first (SetupOutput.events builds those on
 * first read; a worker pass reading both kept two objects per fill alive to the end of the pass).
 * Kept beside the output, not in it: SetupOutput stays the public shape. An output whose account
 * is not marginlab's own (ReplayParams.accountFactory) has none: its events are read.
 */
import type { Ledger } from '../account/fill-log.js';
import type { AccountEvent } from '../account/types.js';
import type { SetupOutput } from './types.js';

const ledgers = new WeakMap<SetupOutput, () => Ledger | null>();

/** how to read `out`'s ledger (null from an account that is not marginlab's own) */
export function setLedger(out: SetupOutput, ledger: () => Ledger | null): void {
  ledgers.set(out, ledger);
}

/** the output's ledger as recorded, or null (read `events`) */
export function ledgerOf(out: SetupOutput): Ledger | null {
  return ledgers.get(out)?.() ?? null;
}

type LiquidationEvent = Extract<AccountEvent, { type: 'liquidation' }>;

/**
 * The output's liquidation events in ledger order, read from the ledger as recorded when it has one:
 * `events` builds an object with decimal strings for every fill and settlement first (≈ 5 % of a
 * stress worker's time went to that, for the few liquidations its figures read).
 */
export function liquidationEvents(out: SetupOutput): LiquidationEvent[] {
  const ledger = ledgerOf(out);
  const found: LiquidationEvent[] = [];
  for (const e of ledger ? ledger.entries : out.events) if (typeof e !== 'number' && e.type === 'liquidation') found.push(e);
  return found;
}
