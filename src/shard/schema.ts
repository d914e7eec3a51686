/**
 * zod schemas of what a run folder holds (manifest.json, results/<runId>.json). Everything loaded
 * from a folder (report, merge, run --resume) is validated here first: a crafted or damaged file is
 * a data error (65) naming the file and the key, never a value rendered unchecked. The one exception:
 * the report step of the `run` that wrote the results reads the files whose bytes still hash to what
 * its workers serialized without validating them (report/load.ts LoadRunFolderOptions.checked).
 */
import { z } from 'zod';
import { dataError } from '../errors.js';
import { runIdOf } from './hash.js';
import { digestProblems, resultProblems, RunSpecSchema } from './result-schema.js';
import { jsonFaultText } from '../util/json-text.js';
import { issueMessage, oneLine, valueAt } from '../util/issue-text.js';
import type { RunManifest, RunResult } from './types.js';

const RUN_ID = /^[0-9a-f]{16}$/;
const runId = z.string().regex(RUN_ID, 'expected a RunId (16 hex digits)');
const int = z.number().int().nonnegative();
const shard = z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).nullable();

export const RunManifestSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string(),
  createdAt: z.string(),
  marginlabVersion: z.string(),
  engineVersion: z.string(),
  gitCommit: z.string().nullable(),
  node: z.string(),
  config: z.unknown(),
  datasets: z.array(z.object({ name: z.string(), path: z.string(), hashes: z.record(z.string(), z.string()) }).loose()),
  runs: z.object({ total: int, ok: int, errored: int }),
  shard,
  workers: z.number().int().positive(),
  wallClockMs: z.number().nonnegative(),
  plan: z.object({ hash: z.string(), total: int, strategies: z.array(z.string()), strategyHashes: z.record(z.string(), z.string()).optional(), runIds: z.array(runId).optional() }).loose().optional(),
  runIds: z.array(runId).optional(),
  configHash: z.string().optional(),
  command: z.object({ config: z.string().nullable(), strategies: z.array(z.string()).optional(), from: z.union([z.string(), z.number(), z.null()]).optional(), to: z.union([z.string(), z.number(), z.null()]).optional(), maxRuns: z.number().int().positive().optional() }).loose().optional(),
  interrupted: z.boolean().optional(),
  inProgress: z.boolean().optional(),
  timings: z.record(z.string(), z.number()).optional(),
  warnings: z.array(z.string()).optional(),
  resumedFrom: z.object({ runs: int, gitCommit: z.string().optional() }).loose().optional(),
  mergedFrom: z.array(z.object({ path: z.string(), shard, runs: int, gitCommit: z.string().optional() }).loose()).optional(),
}).loose();

function issues(err: z.ZodError, root: unknown): string[] {
  return err.issues.slice(0, 10).map((i) => `${oneLine(i.path.map(String).join('.')) || '(root)'}: ${issueMessage(i, { value: valueAt(root, i.path) }, { ownWithValue: true })}`);
}

/** what makes a value given as a run manifest (a library caller's) not one: its first problem, null when it is one */
export function manifestProblem(v: unknown): string | null {
  const r = RunManifestSchema.safeParse(v);
  return r.success ? null : issues(r.error, v)[0]!;
}

/** `todo`: what to do about a damaged file (`: <fix>`), '' when the caller says it */
function parseJson(text: string, path: string, todo = ''): unknown {
  if (text.trim() === '') throw dataError(`${path} is empty (0 bytes): a damaged or unfinished file${todo}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw dataError(`${path} is not valid JSON (${jsonFaultText(text, e)}): a damaged or unfinished file${todo}`);
  }
}

/**
 * Parse and validate a manifest.json's text, the digest apart: the manifest (its schema is
 * checked: UserError 65 naming the file otherwise) and what the digest says was edited (empty when
 * the content hashes to it). --resume still judges an edited manifest's plan, shard and strategy
 * code against the command's (src/shard/run.ts).
 */
export function readRunManifest(text: string, path: string): { manifest: RunManifest; edited: string[] } {
  const json = parseJson(text, path);
  // a manifest of another marginlab says so (it read "schemaVersion: expected 1, got 7" and nothing more)
  const sv = json !== null && typeof json === 'object' ? (json as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof sv === 'number' && Number.isInteger(sv) && sv > 1) {
    const by = (json as { marginlabVersion?: unknown }).marginlabVersion;
    throw dataError(`${path} is a run manifest of schema version ${sv}, written by a newer marginlab${typeof by === 'string' ? ` (${oneLine(by).slice(0, 40)})` : ''}; this one reads version 1: use that marginlab, or run the sweep again with this one`);
  }
  const r = RunManifestSchema.safeParse(json);
  if (!r.success) throw dataError(`${path} is not a valid run manifest`, issues(r.error, json));
  // a value edited by hand (a plan's RunIds, its counts) no longer hashes to the manifest's digest
  const edited = digestProblems(json as Record<string, unknown>, 'run the command that wrote the folder again (a run: --resume rewrites it)');
  return { manifest: r.data as unknown as RunManifest, edited };
}

/** Parse and validate a manifest.json's text, its digest last; UserError 65 naming the file otherwise. */
export function parseRunManifest(text: string, path: string): RunManifest {
  const { manifest, edited } = readRunManifest(text, path);
  if (edited.length) throw dataError(`${path} is not a valid run manifest`, edited);
  return manifest;
}

/** the part of a result this module checks itself: a RunId of its form (the spec is checked by resultProblems, with the one RunSpecSchema) */
const RunIdAndSpec = z.looseObject({ runId, spec: RunSpecSchema });

/** what to do about a damaged result file of a run folder (not while resuming: that runs it again itself) */
export const RESULT_FIX = 'run the command that wrote the folder again with --resume (it runs a damaged result again)';

/**
 * Parse and validate a result file's text: the schema, then the RunId re-derived from its spec
 * (a result whose spec was edited, or that is not the run its file name says, is refused).
 * UserError 65 naming the file otherwise, with `fix` (what to do) when given.
 */
export function parseRunResult(text: string, path: string, expectedId?: string, fix?: string): RunResult {
  const todo = fix === undefined ? '' : `: ${fix}`;
  const json = parseJson(text, path, todo);
  const bad = `${path} is not a valid run result${todo}`;
  // the result's own schema (src/shard/result-schema.ts: event records, money as decimal strings) first
  const problems = resultProblems(json);
  if (problems.length) throw dataError(bad, problems);
  // then what this module needs: a RunId and a spec it re-derives from (the rest is result-schema.ts's)
  const r = RunIdAndSpec.safeParse(json);
  if (!r.success) throw dataError(bad, issues(r.error, json));
  const result = r.data as unknown as RunResult;
  const derived = runIdOf(result.spec);
  if (derived !== result.runId) throw dataError(`${path}: its RunId ${result.runId} does not re-derive from its spec (${derived}): the file was edited or damaged${todo}`);
  if (expectedId !== undefined && expectedId !== result.runId) throw dataError(`${path} holds run ${result.runId}, not ${expectedId}${todo}`);
  // last: any other value edited (a metric) no longer hashes to the file's digest
  const edited = digestProblems(json as Record<string, unknown>);
  if (edited.length) throw dataError(bad, edited);
  return result;
}

/** The RunIds a folder's manifest says belong to it (its shard's slice, or the whole plan); null for folders written before plans were recorded. */
export function folderRunIds(m: RunManifest): string[] | null {
  return m.runIds ?? m.plan?.runIds ?? null;
}

/** How many runs the folder should hold. */
export function expectedRunCount(m: RunManifest): number {
  return folderRunIds(m)?.length ?? (m.shard ? m.runs.total : (m.plan?.total ?? m.runs.total));
}
