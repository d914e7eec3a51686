/**
 * `marginlab merge`: combine run folders (shards, or resumed parts) into one. Refuses folders of
 * different engine versions, configs (the plan-relevant part: worker counts and output paths may
 * differ) or data hashes. The same RunId in two folders must hold the same result.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataError, missingInput, usageError, UserError, ExitCode } from '../errors.js';
import { writeDirAtomic } from '../util/atomic.js';
import { planRelevantConfig, type ResolvedConfig } from '../config/index.js';
import { canonicalJson, sha256Hex } from './hash.js';
import { resultProblems } from './result-schema.js';
import { listResultIds, marginlabVersion, gitCommit } from './run.js';
import type { RunManifest, RunResult } from './types.js';

export interface MergeOutcome {
  outDir: string;
  manifest: RunManifest;
  /** runs in the merged folder */
  runs: number;
  /** runs of the plan not present in any input (0 when complete) */
  missing: number;
  duplicates: number;
}

function readManifest(dir: string): RunManifest {
  const p = join(dir, 'manifest.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw missingInput(`merge: folder not found: ${dir}`);
  if (!existsSync(p)) throw missingInput(`merge: ${p} not found (not a marginlab run folder, or the run did not finish)`);
  let m: RunManifest;
  try {
    m = JSON.parse(readFileSync(p, 'utf8')) as RunManifest;
  } catch (err) {
    throw dataError(`merge: ${p} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (m.schemaVersion !== 1 || typeof m.engineVersion !== 'string' || !Array.isArray(m.datasets)) {
    throw dataError(`merge: ${p} is not a marginlab run manifest (schemaVersion 1 expected)`);
  }
  return m;
}

function readResult(path: string): RunResult {
  const text = readFileSync(path, 'utf8');
  try {
    const result = JSON.parse(text) as RunResult;
    const problems = resultProblems(result);
    if (problems.length) throw new Error(`not a valid run result: ${problems.join('; ')}`);
    return result;
  } catch (err) {
    throw dataError(`merge: ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const fingerprint = (m: RunManifest): string =>
  m.configHash ?? sha256Hex(canonicalJson(planRelevantConfig(m.config as ResolvedConfig))).slice(0, 16);

export async function mergeRunFolders(inputs: string[], outDir: string): Promise<MergeOutcome> {
  if (inputs.length === 0) throw usageError('merge: name at least one run folder');
  const dirs = inputs.map((d) => resolve(d));
  const manifests = dirs.map(readManifest);
  const ref = manifests[0]!;
  const problems: string[] = [];
  manifests.forEach((m, i) => {
    if (i === 0) return;
    const a = inputs[0];
    const b = inputs[i];
    if (m.engineVersion !== ref.engineVersion) problems.push(`engine version: ${a} has ${ref.engineVersion}, ${b} has ${m.engineVersion}`);
    if (fingerprint(m) !== fingerprint(ref)) {
      const ca = planRelevantConfig(ref.config as ResolvedConfig);
      const cb = planRelevantConfig(m.config as ResolvedConfig);
      const keys = [...new Set([...Object.keys(ca), ...Object.keys(cb)])].filter((k) => canonicalJson(ca[k] ?? null) !== canonicalJson(cb[k] ?? null));
      problems.push(`config: ${a} and ${b} differ${keys.length ? ` in ${keys.sort().join(', ')}` : ''}`);
    }
    if (canonicalJson(m.datasets.map((d) => d.hashes)) !== canonicalJson(ref.datasets.map((d) => d.hashes))) {
      problems.push(`data hashes: ${a} and ${b} were run on different data files`);
    }
    if (m.plan && ref.plan && m.plan.hash !== ref.plan.hash) problems.push(`plan: ${a} and ${b} have different run plans (${ref.plan.hash} vs ${m.plan.hash})`);
  });
  if (problems.length > 0) throw new UserError(`merge: the folders do not belong to one sweep (${problems.length} mismatch${problems.length === 1 ? '' : 'es'})`, ExitCode.DATA, problems);

  // collect results; one file per RunId
  // only the path and status of each result are kept (results are copied by file, not re-serialised)
  const chosen = new Map<string, { path: string; status: RunResult['status'] }>();
  let duplicates = 0;
  const counts: number[] = [];
  for (const dir of dirs) {
    const rdir = join(dir, 'results');
    const found = listResultIds(rdir);
    counts.push(found.size);
    for (const id of [...found].sort()) {
      const p = join(rdir, `${id}.json`);
      const result = readResult(p);
      if (result.runId !== id) throw dataError(`merge: ${p} holds run ${result.runId}, not ${id}`);
      if (result.spec.engineVersion !== ref.engineVersion) throw dataError(`merge: ${p} was computed by engine ${result.spec.engineVersion}, the folders by ${ref.engineVersion}`);
      const prev = chosen.get(id);
      if (prev) {
        duplicates++;
        // a re-run of a failed run in a later folder wins over the failure
        if (prev.status === 'errored' && result.status === 'ok') chosen.set(id, { path: p, status: result.status });
        continue;
      }
      chosen.set(id, { path: p, status: result.status });
    }
  }
  const ids = [...chosen.keys()].sort();
  let ok = 0;
  let errored = 0;
  for (const id of ids) chosen.get(id)!.status === 'ok' ? ok++ : errored++;
  const total = ref.plan?.total ?? ids.length;
  const manifest: RunManifest = {
    schemaVersion: 1,
    name: ref.name,
    createdAt: new Date().toISOString(),
    marginlabVersion: marginlabVersion(),
    engineVersion: ref.engineVersion,
    gitCommit: gitCommit(process.cwd()) ?? ref.gitCommit,
    node: process.version,
    config: ref.config,
    datasets: ref.datasets,
    runs: { total, ok, errored },
    shard: null,
    workers: Math.max(...manifests.map((m) => m.workers)),
    wallClockMs: manifests.reduce((s, m) => s + m.wallClockMs, 0),
    ...(ref.plan ? { plan: ref.plan } : {}),
    configHash: fingerprint(ref),
    ...(manifests.some((m) => m.interrupted) ? { interrupted: true } : {}),
    ...(ref.warnings?.length ? { warnings: ref.warnings } : {}),
    mergedFrom: inputs.map((path, i) => ({ path, shard: manifests[i]!.shard, runs: counts[i]! })),
  };
  const out = resolve(outDir);
  await writeDirAtomic(out, (tmp) => {
    mkdirSync(join(tmp, 'results'), { recursive: true });
    for (const id of ids) copyFileSync(chosen.get(id)!.path, join(tmp, 'results', `${id}.json`));
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return { outDir: out, manifest, runs: ids.length, missing: Math.max(0, total - ids.length), duplicates };
}
