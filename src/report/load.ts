/**
 * Reading a run folder (reports/<name>/): results/<runId>.json and manifest.json.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataFrame } from 'danfojs';
import { dataError, missingInput } from '../errors.js';
import type { RunManifest, RunResult } from '../shard/types.js';
import { byRunId } from './model.js';

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw missingInput(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw dataError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkResult(v: unknown, path: string): RunResult {
  const problems: string[] = [];
  if (!isObj(v)) throw dataError(`${path}: expected a RunResult object`);
  if (v.schemaVersion !== 1) problems.push(`schemaVersion: expected 1, got ${JSON.stringify(v.schemaVersion)}`);
  if (typeof v.runId !== 'string' || !v.runId) problems.push('runId: expected a non-empty string');
  if (v.status !== 'ok' && v.status !== 'errored') problems.push(`status: expected "ok" or "errored", got ${JSON.stringify(v.status)}`);
  if (!isObj(v.spec)) problems.push('spec: expected an object');
  else {
    for (const k of ['strategy', 'venue', 'setup', 'dataset', 'timeframe', 'initialCapital'] as const) {
      if (typeof v.spec[k] !== 'string') problems.push(`spec.${k}: expected a string`);
    }
    if (typeof v.spec.leverage !== 'number') problems.push('spec.leverage: expected a number');
    if (!Array.isArray(v.spec.symbols)) problems.push('spec.symbols: expected an array');
    if (!isObj(v.spec.params)) problems.push('spec.params: expected an object');
  }
  if (!isObj(v.metrics)) problems.push('metrics: expected an object');
  else for (const [k, x] of Object.entries(v.metrics)) if (x !== null && typeof x !== 'number') problems.push(`metrics.${k}: expected a number or null`);
  if (!isObj(v.curves) || !Array.isArray(v.curves.time) || !Array.isArray(v.curves.equity)) problems.push('curves: expected { time[], equity[], drawdown[], marginRatio[] }');
  if (!Array.isArray(v.events)) problems.push('events: expected an array');
  if (problems.length) throw dataError(`${path} is not a valid run result`, problems);
  return v as unknown as RunResult;
}

function checkManifest(v: unknown, path: string): RunManifest {
  if (!isObj(v)) throw dataError(`${path}: expected a run manifest object`);
  const problems: string[] = [];
  if (v.schemaVersion !== 1) problems.push(`schemaVersion: expected 1, got ${JSON.stringify(v.schemaVersion)}`);
  for (const k of ['name', 'marginlabVersion', 'engineVersion'] as const) if (typeof v[k] !== 'string') problems.push(`${k}: expected a string`);
  if (!Array.isArray(v.datasets)) problems.push('datasets: expected an array');
  if (problems.length) throw dataError(`${path} is not a valid run manifest`, problems);
  return v as unknown as RunManifest;
}

/** Results (sorted by runId) and manifest of a run folder. UserError 66 when the folder, manifest or results are missing; 65 when a file is malformed. */
export function loadRunFolder(dir: string): { results: RunResult[]; manifest: RunManifest } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw missingInput(`run folder ${dir} does not exist (expected a folder written by \`marginlab run\`)`);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw missingInput(`${manifestPath} is missing: ${dir} is not a run folder (expected manifest.json and results/*.json)`);
  const resultsDir = join(dir, 'results');
  if (!existsSync(resultsDir)) throw missingInput(`${resultsDir} is missing: no stored results to report on`);
  const manifest = checkManifest(readJson(manifestPath), manifestPath);
  const files = readdirSync(resultsDir).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort();
  const results = files.map((f) => checkResult(readJson(join(resultsDir, f)), join(resultsDir, f)));
  const seen = new Map<string, string>();
  for (let i = 0; i < results.length; i++) {
    const prev = seen.get(results[i]!.runId);
    if (prev) throw dataError(`${join(resultsDir, files[i]!)}: runId ${results[i]!.runId} also in ${prev}`);
    seen.set(results[i]!.runId, files[i]!);
  }
  results.sort(byRunId);
  return { results, manifest };
}

/**
 * The runs of a folder as a danfo.js DataFrame, one row per run: runId, status, strategy,
 * params (canonical JSON), venue, mode, leverage, dataset, timeframe, symbols, bars, then every
 * registry metric (NaN where undefined).
 */
export async function loadResults(dir: string): Promise<DataFrame> {
  const { results } = loadRunFolder(dir);
  const { runsDataFrame } = await import('./aggregate.js');
  return runsDataFrame(results);
}
