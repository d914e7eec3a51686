/**
 * `marginlab merge`: combine run folders (shards, or resumed parts) into one. Refuses folders of
 * different engine versions, configs (the plan-relevant part: worker counts and output paths may
 * differ) or data hashes. The same RunId in two folders must hold the same result.
 */
import { planConfigDifferences, resumeCommand, sameDatasets, strategySetChange } from './plan-change.js';
import { copyFileSync, cpSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { dataError, missingInput, usageError, UserError, ExitCode } from '../errors.js';
import { writeDirAtomic } from '../util/atomic.js';
import { COMPARE_FILES, holdsDatasetManifest, liveLock, lockHolder, mkdirs, openOutDir, realPathOf, type OutDir } from '../util/outdir.js';
import { withFsErrors } from '../util/fs-errors.js';
import { folderRunIds, parseRunManifest, parseRunResult, RESULT_FIX } from './schema.js';
import { manifestText } from './result-schema.js';
import { planRelevantConfig, type ResolvedConfig } from '../config/index.js';
import { canonicalJson, sha256Hex } from './hash.js';
import { listResultIds, marginlabVersion, RESULT_FILE, userResultEntries } from './run.js';
import type { RunManifest, RunResult } from './types.js';
import { resultHeapBytes } from '../report/load.js';
import { checkHeapNeed, heapBudget, heapHint, reportHeap } from '../report/heap.js';

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
  if (!existsSync(dir)) throw missingInput(`merge: folder not found: ${dir}`);
  if (!statSync(dir).isDirectory()) throw missingInput(`merge: ${dir} is a file, not a run folder (merge takes the --out folders of the shards' runs)`);
  if (!existsSync(p)) throw missingInput(`merge: ${p} not found (not a marginlab run folder, or the run did not finish)`);
  // a dataset's folder (its manifest lists market data): the schema's ten lines about a run manifest said nothing useful
  if (holdsDatasetManifest(dir)) throw missingInput(`merge: ${dir} is a dataset (market data), not a run folder: give the folders \`marginlab run\` wrote (the shards' --out)`);
  // a folder another marginlab command is writing (a shard's retry with --resume, a run in its report step): its results may change under the merge
  const held = liveLock(dir);
  if (held) throw usageError(`merge: ${dir} is being written by another marginlab process (${lockHolder(held)}); wait for it to finish, then merge`);
  const m = parseRunManifest(withFsErrors({ path: p, action: 'read', role: 'data' }, () => readFileSync(p, 'utf8')), p);
  if (m.inProgress) throw dataError(`merge: ${p}: the run writing this folder has not finished (or was killed); finish it with \`${resumeCommand(m.config, dir, m.shard, m.command)}\` first`);
  // stopped mid-sweep (Ctrl-C, SIGTERM: a cancelled CI job) rather than in its report step (which leaves every result):
  // as unfinished as a killed one, and merged it read as a shard's missing runs, with no command to finish them
  // (a merged folder's mark is of a report step: its missing runs are shards not merged, not runs stopped)
  const done = m.runs.ok + m.runs.errored;
  if (m.interrupted && !m.mergedFrom && done < m.runs.total) {
    throw dataError(`merge: ${p}: the run writing this folder was interrupted after ${done} of its ${m.runs.total} runs; finish it with \`${resumeCommand(m.config, dir, m.shard, m.command)}\` first`);
  }
  return m;
}

/** what identifies a source's manifest.json as merge read it: a command that writes the folder rewrites it (run: when it starts and ends) */
function manifestStamp(dir: string): string {
  try {
    const st = statSync(join(dir, 'manifest.json'), { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return 'gone';
  }
}

/** A source folder another marginlab command wrote while merge read it: its results may be of two runs. */
const changedWhileMerged = (dir: string): UserError =>
  usageError(`merge: ${dir} changed while it was merged (another marginlab command wrote it); merge again once that command has finished`);

function readResult(path: string, id: string): { result: RunResult; bytes: number } {
  const text = withFsErrors({ path, action: 'read', role: 'data' }, () => readFileSync(path));
  return { result: parseRunResult(text.toString('utf8'), path, id, RESULT_FIX), bytes: text.length };
}

/**
 * m with the first manifest's plan.runIds in place of its own when the two lists are equal: every shard's manifest
 * carries the whole plan's RunIds, and merge keeps every manifest while it works (100 shards of a 100,000-run plan held
 * 100 copies, ≈ 5.7 MB each); a list that differs is kept (the plans' mismatch is said below)
 */
export function sharePlanRunIds(m: RunManifest, first: RunManifest | undefined): RunManifest {
  const a = first?.plan?.runIds;
  const b = m.plan?.runIds;
  if (a === undefined || b === undefined || a === b || a.length !== b.length) return m;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return m;
  m.plan!.runIds = a;
  return m;
}

const fingerprint = (m: RunManifest): string =>
  m.configHash ?? sha256Hex(canonicalJson(planRelevantConfig(m.config as ResolvedConfig))).slice(0, 16);

export interface MergeOptions {
  /** write into a non-empty folder marginlab did not make (see src/util/outdir.ts) */
  force?: boolean;
  /** an output folder the caller already opened (and keeps locked while it renders the report) */
  out?: OutDir;
  /** heap the merged folder's report may take (bytes); default what this process has (report/heap.ts heapBudget) */
  heapBudget?: number;
}

export async function mergeRunFolders(inputs: string[], outDir: string, opts: MergeOptions = {}): Promise<MergeOutcome> {
  if (inputs.length === 0) throw usageError('merge: name at least one run folder');
  const dirs = inputs.map((d) => resolve(d));
  // the same folder twice (also through a symlink)
  const reals = dirs.map(realPathOf);
  reals.forEach((r, i) => {
    const j = reals.indexOf(r);
    if (j !== i) throw usageError(`merge: ${inputs[i]} and ${inputs[j]} are the same folder; name each folder once`);
  });
  const manifests: RunManifest[] = [];
  for (const d of dirs) manifests.push(sharePlanRunIds(readManifest(d), manifests[0]));
  // a command may start writing a source after the check of its lock (a fresh run clears its results):
  // its lock and manifest are checked again once the results are copied
  const stamps = dirs.map(manifestStamp);
  const unchanged = () =>
    dirs.forEach((d, k) => {
      if (liveLock(d) !== null || manifestStamp(d) !== stamps[k]) throw changedWhileMerged(d);
    });
  const ref = manifests[0]!;
  const problems: string[] = [];
  manifests.forEach((m, i) => {
    if (i === 0) return;
    const a = inputs[0];
    const b = inputs[i];
    if (m.engineVersion !== ref.engineVersion) problems.push(`engine version: ${a} has ${ref.engineVersion}, ${b} has ${m.engineVersion}`);
    // judged by what decides the runs, as --resume judges a folder: not by how the config was written (--strategies b,a
    // beside a,b, a data folder by its absolute path beside its relative one: the same plan was refused)
    const keys = planConfigDifferences(ref.config, m.config, { strategyCodeHashed: ref.plan?.strategyHashes !== undefined && m.plan?.strategyHashes !== undefined });
    if (keys.length > 0) problems.push(`config: ${a} and ${b} differ in ${keys.join(', ')}`);
    if (!sameDatasets(ref.datasets, m.datasets)) {
      const names = (ds: RunManifest['datasets']) => ds.map((d) => d.name).sort().join(', ');
      problems.push(
        names(ref.datasets) !== names(m.datasets)
          ? `data hashes: ${a} was run on dataset${ref.datasets.length === 1 ? '' : 's'} ${names(ref.datasets)}, ${b} on ${names(m.datasets)}`
          : `data hashes: ${a} and ${b} were run on different data files`,
      );
    }
    // the same plan run with other code of a strategy file (the RunIds hold its name and params only)
    const ha = ref.plan?.strategyHashes ?? {};
    const hb = m.plan?.strategyHashes ?? {};
    const code = Object.keys(ha).filter((n) => hb[n] !== undefined && hb[n] !== ha[n]).sort();
    if (code.length > 0) problems.push(`strategy code: ${a} and ${b} ran different versions of ${code.map((n) => `'${n}'`).join(', ')}`);
    // the strategies found (strategies: 'all' over strategy folders compared by their code above): one added or removed
    // (a config whose strategies differ is said above, once)
    const strategies = keys.includes('strategies') ? null : strategySetChange({ name: a, strategies: ref.plan?.strategies }, { name: b, strategies: m.plan?.strategies });
    if (strategies !== null) problems.push(`strategies: ${strategies}`);
    if (m.plan && ref.plan && m.plan.hash !== ref.plan.hash) {
      // nothing above differs: the plans were made by marginlabs that plan the same config otherwise
      const why = code.length === 0 && strategies === null && m.engineVersion === ref.engineVersion && keys.length === 0 && sameDatasets(ref.datasets, m.datasets)
        ? ': their configs, data, engine and strategy code agree, so an earlier marginlab planned one of them otherwise (docs/stress.md, "Runs, RunIds, shards", lists such changes); run it again with this one'
        : '';
      problems.push(`plan: ${a} and ${b} have different run plans (${ref.plan.hash} vs ${m.plan.hash})${why}`);
    }
  });
  if (problems.length > 0) throw new UserError(`merge: the folders do not belong to one sweep (${problems.length} mismatch${problems.length === 1 ? '' : 'es'})`, ExitCode.DATA, problems);
  // the same shard in two folders is allowed: a shard re-run into a new folder to retry its errored
  // runs (same RunIds; below, an ok result wins over an errored one), as for an unsharded re-run

  // the plan: the whole plan's RunIds (folders written before plans were recorded have none: then only RunIds re-derived from specs are checked)
  const planIds = ref.plan?.runIds ?? null;
  const plan = planIds ? new Set(planIds) : null;

  // collect results; one file per RunId. Only the path and status of each result are kept (results are copied by file, not re-serialised)
  // with the heap each takes in the report rendered once merged (report/load.ts resultHeapBytes)
  const chosen = new Map<string, { path: string; status: RunResult['status']; bytes: number; heap: number }>();
  let duplicates = 0;
  const counts: number[] = [];
  const foreign: string[] = [];
  for (let k = 0; k < dirs.length; k++) {
    const dir = dirs[k]!;
    const own = folderRunIds(manifests[k]!);
    const ownSet = own ? new Set(own) : plan;
    const rdir = join(dir, 'results');
    // as the report judges a folder: no results/ is 66 (it read "9 of 18 planned runs are missing"), a .json in it that
    // is no result file by its name is 65 (it was left out in silence where the report refuses it)
    if (!existsSync(rdir)) throw missingInput(`merge: ${rdir} is missing: no stored results to merge`);
    // results/ a file, or unreadable: one line naming it (65), as the report says it
    const found = withFsErrors({ path: rdir, action: 'read', role: 'data' }, () => listResultIds(rdir));
    const stray = withFsErrors({ path: rdir, action: 'read', role: 'data' }, () => readdirSync(rdir)).filter((f) => f.endsWith('.json') && !f.startsWith('.') && !RESULT_FILE.test(f)).sort();
    if (stray.length) throw dataError(`merge: ${join(rdir, stray[0]!)} is not a run result (a result's name is its RunId, 16 hex digits .json)${stray.length > 1 ? ` (and ${stray.length - 1} more such file${stray.length === 2 ? '' : 's'})` : ''}; move it out of results/`);
    counts.push(found.size);
    for (const id of [...found].sort()) {
      const p = join(rdir, `${id}.json`);
      const { result, bytes } = readResult(p, id);
      const entry = { path: p, status: result.status, bytes, heap: resultHeapBytes(result, bytes, true) };
      if (result.spec.engineVersion !== ref.engineVersion) throw dataError(`merge: ${p} was computed by engine ${result.spec.engineVersion}, the folders by ${ref.engineVersion}`);
      if (ownSet && !ownSet.has(id)) {
        foreign.push(p);
        continue;
      }
      const prev = chosen.get(id);
      if (prev) {
        duplicates++;
        // a re-run of a failed run in a later folder wins over the failure
        if (prev.status === 'errored' && result.status === 'ok') chosen.set(id, entry);
        continue;
      }
      chosen.set(id, entry);
    }
  }
  if (foreign.length > 0) {
    throw dataError(
      `merge: ${foreign.length} result file${foreign.length === 1 ? ' is' : 's are'} not in the plan of ${foreign.length === 1 ? 'its' : 'their'} folder's manifest (results of another config mixed into the folder); ` +
        'run that folder again into a fresh --out, or delete the files',
      foreign.slice(0, 10).concat(foreign.length > 10 ? [`... and ${foreign.length - 10} more`] : []),
    );
  }
  const ids = [...chosen.keys()].sort();
  // the merged folder's report holds every result: refused before the folder is written when this
  // process cannot hold them (each shard fitted its own machine; the whole plan may not fit one)
  let bytes = 0;
  let heap = 0;
  for (const c of chosen.values()) {
    bytes += c.bytes;
    heap += c.heap;
  }
  checkHeapNeed(
    { doing: 'reading them for the report', runs: ids.length, bytes, need: reportHeap(heap), budget: opts.heapBudget ?? heapBudget() },
    'merge: the merged folder',
    `${heapHint('merge')}; each folder merged keeps its own report`,
  );
  let ok = 0;
  let errored = 0;
  for (const id of ids) chosen.get(id)!.status === 'ok' ? ok++ : errored++;
  const total = planIds?.length ?? ref.plan?.total ?? ids.length;
  const command = manifests.find((m) => m.command)?.command;
  const manifest: RunManifest = {
    schemaVersion: 1,
    name: ref.name,
    createdAt: new Date().toISOString(),
    marginlabVersion: marginlabVersion(),
    engineVersion: ref.engineVersion,
    // the commit the shards were run at (their config's repository), not the one of the folder merge is started in;
    // none when they were run at different commits (mergedFrom keeps each one's)
    gitCommit: manifests.every((m) => m.gitCommit === ref.gitCommit) ? ref.gitCommit : null,
    node: process.version,
    config: ref.config,
    datasets: ref.datasets,
    runs: { total, ok, errored },
    shard: null,
    workers: Math.max(...manifests.map((m) => m.workers)),
    wallClockMs: manifests.reduce((s, m) => s + m.wallClockMs, 0),
    ...(ref.plan ? { plan: ref.plan } : {}),
    configHash: fingerprint(ref),
    // how the shards were started (the config file, the plan's flags): the hint that finishes an incomplete merged folder
    // repeats it (without it, `run --resume --out <merged>` read the default backtest.config.ts and was refused)
    ...(command ? { command } : {}),
    // an input interrupted in its report step holds every result: the merge, whose report is rendered here, is then whole (as `marginlab report` drops the mark)
    ...(manifests.some((m) => m.interrupted) && ids.length < total ? { interrupted: true } : {}),
    ...(ref.warnings?.length ? { warnings: ref.warnings } : {}),
    mergedFrom: inputs.map((path, i) => ({ path, shard: manifests[i]!.shard, runs: counts[i]!, ...(manifests[i]!.gitCommit !== null ? { gitCommit: manifests[i]!.gitCommit } : {}) })),
  };
  const outOpts = { kind: 'run' as const, inputs: dirs.map((d, i) => ({ label: 'input folder', path: inputs[i] ?? d })), ...(opts.force ? { force: true } : {}), resume: false as const };
  const out = opts.out ?? openOutDir(outDir, outOpts);
  try {
    // the merged results/ replaces the folder's whole: what the user keeps there goes along (as `run` keeps it)
    const userEntries = userResultEntries(join(out.path, 'results'), 'flag', true);
    await writeDirAtomic(
      out,
      (tmp) => {
        mkdirs(join(tmp, 'results'));
        for (const id of ids) {
          const from = chosen.get(id)!.path;
          try {
            copyFileSync(from, join(tmp, 'results', `${id}.json`));
          } catch (err) {
            // a result read a moment ago and gone now: a command cleared the folder meanwhile
            if ((err as { code?: string }).code === 'ENOENT') throw changedWhileMerged(dirname(dirname(from)));
            throw err;
          }
        }
        unchanged();
        for (const e of userEntries) cpSync(join(out.path, 'results', e), join(tmp, 'results', e), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
        writeFileSync(join(tmp, 'manifest.json'), manifestText(manifest));
      },
      outOpts,
    );
    // a comparison `compare` wrote into the folder compared the results just replaced
    out.dropOwnFiles(COMPARE_FILES);
  } finally {
    if (!opts.out) out.release();
  }
  return { outDir: out.path, manifest, runs: ids.length, missing: Math.max(0, total - ids.length), duplicates };
}
