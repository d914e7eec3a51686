/**
 * Reading a run folder (reports/<name>/): results/<runId>.json and manifest.json.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataFrame } from 'danfojs';
import { dataError, missingInput } from '../errors.js';
import type { RunManifest, RunResult } from '../shard/types.js';
import { resultProblems } from '../shard/result-schema.js';
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
  const problems = resultProblems(v);
  if (problems.length) throw dataError(`${path} is not a valid run result`, problems);
  return v as RunResult;
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

/**
 * Every round trip of every run of a folder as a danfo.js DataFrame, one row per trade, the
 * columns of trades.csv (docs/report.md) in the same order: times as ISO strings, money columns
 * as numbers (the exact decimal strings are in trades.csv and `runTrades(result)`).
 */
export async function loadTrades(dir: string): Promise<DataFrame> {
  const { results } = loadRunFolder(dir);
  const [{ loadDanfo }, { runTrades, tradeCells, TRADE_COLUMNS, MONEY_COLUMNS }] = await Promise.all([import('./aggregate.js'), import('./trades.js')]);
  const dfd = await loadDanfo();
  const numeric = new Set<string>([...MONEY_COLUMNS, 'leverage', 'size', 'entryPrice', 'exitPrice', 'fills']);
  const rows: Record<string, string | number>[] = [];
  for (const r of results) {
    for (const t of runTrades(r)) {
      const cells = tradeCells(r, t);
      const row: Record<string, string | number> = {};
      TRADE_COLUMNS.forEach((c, k) => {
        const v = cells[k];
        row[c] = numeric.has(c) ? (v === null || v === undefined ? NaN : Number(v)) : (v ?? '');
      });
      rows.push(row);
    }
  }
  if (rows.length === 0) return new dfd.DataFrame([], { columns: [...TRADE_COLUMNS] });
  return new dfd.DataFrame(rows);
}
