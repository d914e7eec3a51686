/**
 * An error met in a worker thread as plain data the main thread can rethrow unchanged (a
 * UserError's message, exit code, details and reason; anything else's message, with exitCode null). One
 * home for the dataset loader thread (shard/load-worker.ts) and the Parquet decoding thread.
 */
import { USER_ERROR_REASONS, type UserErrorReason } from '../errors.js';
import { thrownText } from './excerpt.js';

export interface ThreadErrorData {
  message: string;
  exitCode: number | null;
  details: string[];
  /** the UserError's reason (errors.ts), null for none */
  reason: UserErrorReason | null;
}

export function threadErrorData(err: unknown): ThreadErrorData {
  const e = err as { message?: unknown; exitCode?: unknown; details?: unknown; reason?: unknown } | null;
  return {
    message: typeof e?.message === 'string' ? e.message : thrownText(err),
    exitCode: typeof e?.exitCode === 'number' ? e.exitCode : null,
    details: Array.isArray(e?.details) ? (e.details as unknown[]).map(String) : [],
    reason: USER_ERROR_REASONS.find((r) => r === e?.reason) ?? null,
  };
}
