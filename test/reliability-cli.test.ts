/**
 * Reliability through the CLI: never lose a user's files, never mix runs (issue 11). Each case is
 * one class of fault: an output that is an input or a foreign folder, two writers on one folder,
 * --resume into a folder of another plan, damaged results, foreign or edited results in merge and
 * report, the same shard twice, missing shards.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, resultFiles, runCli, startCli, waitFor, writeConfig } from './fixtures/run/cli.js';
import type { RunManifest, RunResult } from '../src/shard/types.js';
import { erroredResult } from '../src/shard/worker.js';

let dir: string;
const sweep = (extra: Record<string, unknown> = {}) => ({
  name: 'rel',
  data: './data',
  strategyDirs: [FIXTURE_STRATEGIES],
  strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 24] } }],
  leverage: [3, 20],
  workers: 1,
  ...extra,
});
const read = (p: string) => readFileSync(p, 'utf8');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-rel-'));
  await makeDataset(join(dir, 'data'), { bars: 400, seed: 3 });
  writeConfig(dir, 'a.config.ts', sweep());
  writeConfig(dir, 'b.config.ts', sweep({ leverage: [3, 11] }));
  writeConfig(dir, 'slow.config.ts', sweep({ strategies: [{ name: 'fixture-trend', grid: { lookback: [4, 8, 12, 16] }, params: { spinUs: 400 } }], leverage: [5] }));
  const [s1, s2, b] = await Promise.all([
    runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'P/shard-1', '--quiet'], dir),
    runCli(['run', '-c', 'a.config.ts', '--shard', '2/2', '--out', 'P/shard-2', '--quiet'], dir),
    runCli(['run', '-c', 'b.config.ts', '--out', 'B', '--quiet'], dir),
  ]);
  expect([s1.code, s2.code, b.code]).toEqual([0, 0, 0]);
}, 300_000);

describe('a report that cannot be written says what to do for the command given', () => {
  it('report <dir> (no --out) says to make the folder writable, not to use --out; output.dir from the config is 78', async () => {
    cpSync(join(dir, 'B'), join(dir, 'Brep'), { recursive: true });
    const summary = read(join(dir, 'Brep', 'summary.json'));
    rmSync(join(dir, 'Brep', 'report.md'));
    mkdirSync(join(dir, 'Brep', 'report.md'));
    const rep = await runCli(['report', 'Brep'], dir);
    expect(rep.code).toBe(64);
    expect(rep.stderr.trim().split('\n')).toHaveLength(1);
    expect(rep.stderr).toContain(`cannot write the report file ${join('Brep', 'report.md')}: is a folder, not a file (EISDIR); make it writable, or copy the run folder somewhere writable`);
    expect(rep.stderr).not.toContain('--out');
    expect(read(join(dir, 'Brep', 'summary.json'))).toBe(summary);
    // the same folder as the config's output.dir: a config error (78) whose hint names the key
    writeConfig(dir, 'od.config.ts', sweep({ leverage: [3, 11], output: { dir: 'Brep' } }));
    const run = await runCli(['run', '-c', 'od.config.ts', '--quiet'], dir);
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(/report\.md: is a folder, not a file \(EISDIR\); choose a writable folder \(config key output\.dir, or --out\)/);
    // no output.dir: the default reports/<name> is not a config error (the config names no folder): 64, saying both ways out
    writeConfig(dir, 'dflt.config.ts', sweep({ name: 'dflt', leverage: [3] }));
    mkdirSync(join(dir, 'reports', 'dflt', 'report.md', 'x'), { recursive: true });
    const def = await runCli(['run', '-c', 'dflt.config.ts', '--quiet'], dir);
    expect(def.code, def.stderr).toBe(64);
    expect(def.stderr.trim().split('\n')).toHaveLength(1);
    expect(def.stderr).toContain(`the default output folder ${join(dir, 'reports', 'dflt')} is not empty and was not written by marginlab`);
    expect(def.stderr).not.toContain("output.dir ");
  });
});

describe('results of another version of a strategy file are not resumed or merged', () => {
  it('--resume after the strategy code changed is refused (64), naming the file; merge of shards run with two versions is refused (65)', async () => {
    const strat = (qty: number) =>
      `export default { name: 'edited', description: 'buys once', params: { safeParse: (x) => ({ success: true, data: { ...x } }) },\n` +
      `  symbols: () => ['AAAUSDT'], create: () => ({ onBar(ctx) { if (ctx.index === 5) ctx.buy(0, ${qty}); } }) };\n`;
    mkdirSync(join(dir, 'edited-strats'), { recursive: true });
    const file = join(dir, 'edited-strats', 'edited.mjs');
    writeFileSync(file, strat(1));
    writeConfig(dir, 'edited.config.ts', sweep({ strategyDirs: ['./edited-strats'], strategies: ['edited'], leverage: [3] }));
    const first = await runCli(['run', '-c', 'edited.config.ts', '--out', 'E', '--quiet'], dir);
    expect(first.code).toBe(0);
    const s1 = await runCli(['run', '-c', 'edited.config.ts', '--shard', '1/2', '--out', 'E1', '--quiet'], dir);
    expect(s1.code).toBe(0);
    const results = readdirSync(join(dir, 'E', 'results')).sort();
    // same name and params, other code: the RunIds are the same, the results would be stale
    writeFileSync(file, strat(2));
    const resumed = await runCli(['run', '-c', 'edited.config.ts', '--out', 'E', '--resume', '--quiet'], dir);
    expect(resumed.code).toBe(64);
    expect(resumed.stderr.trim().split('\n')).toHaveLength(1);
    expect(resumed.stderr).toContain(`--resume: strategy 'edited' (${file}) changed since the results in`);
    expect(readdirSync(join(dir, 'E', 'results')).sort()).toEqual(results);
    const s2 = await runCli(['run', '-c', 'edited.config.ts', '--shard', '2/2', '--out', 'E2', '--quiet'], dir);
    expect(s2.code).toBe(0);
    const merged = await runCli(['merge', 'E1', 'E2', '--out', 'EM'], dir);
    expect(merged.code).toBe(65);
    expect(merged.stderr).toContain("strategy code: E1 and E2 ran different versions of 'edited'");
    // the same code again, checked out with CRLF line endings and a byte-order mark (git autocrlf): resume goes on
    writeFileSync(file, `\uFEFF${strat(1).replace(/\n/g, '\r\n')}`);
    expect((await runCli(['run', '-c', 'edited.config.ts', '--out', 'E', '--resume', '--quiet'], dir)).code).toBe(0);
  });
});

describe('never lose a user file', () => {
  it('merge refuses a foreign non-empty --out, an input\'s parent, and the working directory; inputs and user files intact', async () => {
    mkdirSync(join(dir, 'Q', 'src'), { recursive: true });
    writeFileSync(join(dir, 'Q', 'src', 'main.ts'), 'user code');
    const before = readdirSync(join(dir, 'P', 'shard-1', 'results')).sort();
    const [q, p, cwd, ds] = await Promise.all([
      runCli(['merge', 'P/shard-1', 'P/shard-2', '--out', 'Q'], dir),
      runCli(['merge', 'P/shard-1', 'P/shard-2', '--out', 'P'], dir),
      runCli(['merge', 'P/shard-1', 'P/shard-2', '--out', '.'], join(dir)),
      runCli(['run', '-c', 'a.config.ts', '--out', 'data', '--quiet'], dir),
    ]);
    expect([q.code, p.code, cwd.code, ds.code]).toEqual([64, 64, 64, 64]);
    expect(q.stderr).toMatch(/--out .*Q is not empty and was not written by marginlab/);
    expect(p.stderr).toMatch(/--out .*P contains the input folder .*shard-1/);
    expect(ds.stderr).toMatch(/--out .*data is the dataset/);
    for (const r of [q, p, cwd, ds]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(read(join(dir, 'Q', 'src', 'main.ts'))).toBe('user code');
    expect(readdirSync(join(dir, 'P', 'shard-1', 'results')).sort()).toEqual(before);
    expect(existsSync(join(dir, 'data', 'manifest.json'))).toBe(true);
    expect(JSON.parse(read(join(dir, 'data', 'manifest.json')))).toHaveProperty('format');
    // --force writes the merge into Q and touches nothing else
    const forced = await runCli(['merge', 'P/shard-1', 'P/shard-2', '--out', 'Q', '--force', '--quiet'], dir);
    expect(forced.code).toBe(0);
    expect(read(join(dir, 'Q', 'src', 'main.ts'))).toBe('user code');
    expect(resultFiles(join(dir, 'Q'))).toHaveLength(8);
  });

  it('two runs on one --out: the second is refused while the first runs; the first finishes whole', async () => {
    const first = startCli(['run', '-c', 'slow.config.ts', '--out', 'busy', '--quiet'], dir);
    await waitFor(() => existsSync(join(dir, 'busy', '.marginlab.lock')), 60_000, 'the lock');
    const second = await runCli(['run', '-c', 'slow.config.ts', '--out', 'busy', '--quiet'], dir);
    expect(second.code).toBe(64);
    expect(second.stderr).toMatch(/is being written by another marginlab process \(pid \d+ on /);
    const r = await first.done;
    expect(r.code).toBe(0);
    expect(resultFiles(join(dir, 'busy'))).toHaveLength(8);
    expect(JSON.parse(read(join(dir, 'busy', 'summary.json')))).toMatchObject({ complete: true, counts: { total: 8, missing: 0 } });
    expect(existsSync(join(dir, 'busy', '.marginlab.lock'))).toBe(false);
  });
});

describe('never mix runs', () => {
  it('--resume with another config is refused; a damaged result is named and run again', async () => {
    mkdirSync(join(dir, 'R'));
    cpSync(join(dir, 'P', 'shard-1'), join(dir, 'R', 's1'), { recursive: true });
    const changed = await runCli(['run', '-c', 'b.config.ts', '--shard', '1/2', '--out', 'R/s1', '--resume', '--quiet'], dir);
    expect(changed.code).toBe(64);
    expect(changed.stderr).toMatch(/--resume: .*holds runs of another plan .*run without --resume to replace/);
    const files = resultFiles(join(dir, 'R', 's1'));
    writeFileSync(join(dir, 'R', 's1', 'results', files[0]!), '');
    const resumed = await runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'R/s1', '--resume'], dir);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`${files[0]} is empty (0 bytes)`);
    expect(read(join(dir, 'R', 's1', 'results', files[0]!))).toBe(read(join(dir, 'P', 'shard-1', 'results', files[0]!)));
    // a file of a result's name that is no run of the plan and no result (the user's): refused, nothing
    // removed (it was deleted with 'run again'); a damaged run of the plan beside it is not removed either
    const alien = join(dir, 'R', 's1', 'results', '0000000000000000.json');
    writeFileSync(alien, '{"mine": true}\n');
    writeFileSync(join(dir, 'R', 's1', 'results', files[1]!), '{');
    const refused = await runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'R/s1', '--resume', '--quiet'], dir);
    expect(refused.code).toBe(64);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/--resume: .*0000000000000000\.json is not a result marginlab wrote \(.*\) and not a run of this plan: move it out of that folder \(marginlab never deletes it\); nothing was changed/);
    expect(read(alien)).toBe('{"mine": true}\n');
    expect(read(join(dir, 'R', 's1', 'results', files[1]!))).toBe('{');
    rmSync(alien);
    expect((await runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'R/s1', '--resume', '--quiet'], dir)).code).toBe(0);
    expect(read(join(dir, 'R', 's1', 'results', files[1]!))).toBe(read(join(dir, 'P', 'shard-1', 'results', files[1]!)));
  });

  it('--resume keeps to the plan when the manifest is edited or damaged: another plan, shard or strategy code is refused (64), nothing removed', async () => {
    const editManifest = (folder: string, edit: (m: RunManifest) => void) => {
      const mp = join(dir, folder, 'manifest.json');
      const m = JSON.parse(read(mp)) as RunManifest;
      edit(m);
      writeFileSync(mp, JSON.stringify(m, null, 2));
    };
    // edited (its digest no longer matches) but schema-valid: its plan is still judged
    cpSync(join(dir, 'P', 'shard-1'), join(dir, 'G1'), { recursive: true });
    editManifest('G1', (m) => { m.configHash = '0000000000000000'; });
    const before = readdirSync(join(dir, 'G1', 'results')).sort();
    const other = await runCli(['run', '-c', 'b.config.ts', '--shard', '1/2', '--out', 'G1', '--resume', '--quiet'], dir);
    expect(other.code, other.stderr).toBe(64);
    expect(other.stderr).toMatch(/--resume: .*holds runs of another plan/);
    expect(readdirSync(join(dir, 'G1', 'results')).sort()).toEqual(before);
    const otherShard = await runCli(['run', '-c', 'a.config.ts', '--shard', '2/2', '--out', 'G1', '--resume', '--quiet'], dir);
    expect(otherShard.code, otherShard.stderr).toBe(64);
    expect(readdirSync(join(dir, 'G1', 'results')).sort()).toEqual(before);
    // the strategy code recorded in an edited manifest is still compared
    editManifest('G1', (m) => { m.plan!.strategyHashes = Object.fromEntries(Object.keys(m.plan!.strategyHashes!).map((k) => [k, 'ffffffffffffffff'])); });
    const code = await runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'G1', '--resume', '--quiet'], dir);
    expect(code.code, code.stderr).toBe(64);
    expect(code.stderr).toMatch(/--resume: strategy 'fixture-trend' \(.*\) changed since the results in/);
    expect(readdirSync(join(dir, 'G1', 'results')).sort()).toEqual(before);
    // a manifest that does not parse says nothing of the folder's plan: a result of another plan there
    // (or of another shard) is refused, not removed
    cpSync(join(dir, 'P', 'shard-1'), join(dir, 'G2'), { recursive: true });
    writeFileSync(join(dir, 'G2', 'manifest.json'), '{"runs": ');
    const foreign = resultFiles(join(dir, 'B')).find((f) => !existsSync(join(dir, 'P', 'shard-1', 'results', f)) && !existsSync(join(dir, 'P', 'shard-2', 'results', f)))!;
    copyFileSync(join(dir, 'B', 'results', foreign), join(dir, 'G2', 'results', foreign));
    const damaged = await runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'G2', '--resume', '--quiet'], dir);
    expect(damaged.code, damaged.stderr).toBe(64);
    expect(damaged.stderr).toContain(`${join('G2', 'results', foreign)} is a result of another plan, not a run of this command (the folder's manifest.json is damaged and cannot say which plan the folder holds)`);
    expect(damaged.stderr).not.toMatch(/\n\s+at /);
    expect(read(join(dir, 'G2', 'results', foreign))).toBe(read(join(dir, 'B', 'results', foreign)));
    expect(read(join(dir, 'G2', 'manifest.json'))).toBe('{"runs": ');
    rmSync(join(dir, 'G2', 'results', foreign));
    const s2 = resultFiles(join(dir, 'P', 'shard-2'))[0]!;
    copyFileSync(join(dir, 'P', 'shard-2', 'results', s2), join(dir, 'G2', 'results', s2));
    const shard = await runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'G2', '--resume', '--quiet'], dir);
    expect(shard.code, shard.stderr).toBe(64);
    expect(shard.stderr).toContain(`${join('G2', 'results', s2)} is a result of this plan but not of shard 1/2`);
    expect(existsSync(join(dir, 'G2', 'results', s2))).toBe(true);
    // without the stranger, the damaged manifest is said and written again; the results are kept
    rmSync(join(dir, 'G2', 'results', s2));
    const ok = await runCli(['run', '-c', 'a.config.ts', '--shard', '1/2', '--out', 'G2', '--resume'], dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/marginlab: warning: --resume: .*G2.manifest\.json is not valid JSON .*every result is checked against this plan and the manifest written again \(the strategy code the results were made with cannot be checked: run without --resume if a strategy file changed since\)/);
    expect(ok.stderr).toMatch(/0 runs to do \(4 already done/);
    expect((await runCli(['report', 'G2', '--quiet'], dir)).code).toBe(0);
  });

  it('merge and report keep to the plan: foreign and edited results, a shard retried in a new folder, a missing shard', async () => {
    const { mergeRunFolders } = await import('../src/shard/merge.js');
    const { loadRunFolder } = await import('../src/report/index.js');
    // a result of another config copied into a shard folder
    cpSync(join(dir, 'P', 'shard-2'), join(dir, 'mixed'), { recursive: true });
    const foreign = resultFiles(join(dir, 'B')).find((f) => !existsSync(join(dir, 'P', 'shard-1', 'results', f)) && !existsSync(join(dir, 'P', 'shard-2', 'results', f)))!;
    copyFileSync(join(dir, 'B', 'results', foreign), join(dir, 'mixed', 'results', foreign));
    await expect(mergeRunFolders([join(dir, 'P', 'shard-1'), join(dir, 'mixed')], join(dir, 'x1'))).rejects.toMatchObject({
      exitCode: 65,
      message: expect.stringMatching(/1 result file is not in the plan/),
      details: [join(dir, 'mixed', 'results', foreign)],
    });
    const folder = loadRunFolder(join(dir, 'mixed'));
    expect(folder.foreign).toEqual([join('results', foreign)]);
    expect(folder.results.map((r) => r.runId)).not.toContain(foreign.slice(0, 16));
    // a hand-edited result: leverage 77, totalReturn 999
    cpSync(join(dir, 'P', 'shard-2'), join(dir, 'edited'), { recursive: true });
    const f = resultFiles(join(dir, 'edited'))[0]!;
    const r = JSON.parse(read(join(dir, 'edited', 'results', f))) as RunResult;
    r.spec.leverage = 77;
    r.metrics.totalReturn = 999;
    writeFileSync(join(dir, 'edited', 'results', f), JSON.stringify(r));
    await expect(mergeRunFolders([join(dir, 'P', 'shard-1'), join(dir, 'edited')], join(dir, 'x2'))).rejects.toMatchObject({
      exitCode: 65,
      message: expect.stringMatching(new RegExp(`${f}: its RunId ${f.slice(0, 16)} does not re-derive from its spec`)),
    });
    // a .json in results/ that is no result by its name (the report refuses it, merge left it out in silence), and a
    // shard without results/ (merge blamed "planned runs are missing")
    cpSync(join(dir, 'P', 'shard-2'), join(dir, 'junk'), { recursive: true });
    writeFileSync(join(dir, 'junk', 'results', 'zzzz.json'), '{"not":"a result"}');
    await expect(mergeRunFolders([join(dir, 'P', 'shard-1'), join(dir, 'junk')], join(dir, 'x3'))).rejects.toMatchObject({
      exitCode: 65,
      message: `merge: ${join(dir, 'junk', 'results', 'zzzz.json')} is not a run result (a result's name is its RunId, 16 hex digits .json); move it out of results/`,
    });
    expect((await runCli(['report', join(dir, 'junk')], dir)).code).toBe(65);
    cpSync(join(dir, 'P', 'shard-2'), join(dir, 'nores'), { recursive: true });
    rmSync(join(dir, 'nores', 'results'), { recursive: true });
    await expect(mergeRunFolders([join(dir, 'P', 'shard-1'), join(dir, 'nores')], join(dir, 'x4'))).rejects.toMatchObject({
      exitCode: 66,
      message: `merge: ${join(dir, 'nores', 'results')} is missing: no stored results to merge`,
    });
    for (const x of ['x1', 'x2', 'x3', 'x4']) expect(existsSync(join(dir, x))).toBe(false);
    // a result whose wallet alone was edited (its RunId still re-derives): its books do not balance, and report says so
    cpSync(join(dir, 'P', 'shard-2'), join(dir, 'wallet'), { recursive: true });
    const w = resultFiles(join(dir, 'wallet')).find((x) => (JSON.parse(read(join(dir, 'wallet', 'results', x))) as RunResult).status === 'ok')!;
    const rw = JSON.parse(read(join(dir, 'wallet', 'results', w))) as RunResult;
    rw.books.wallet = '109900';
    writeFileSync(join(dir, 'wallet', 'results', w), JSON.stringify(rw));
    const walletRep = await runCli(['report', join(dir, 'wallet')], dir);
    expect(walletRep.code).toBe(65);
    expect(walletRep.stderr).toContain(`${w}`);
    expect(walletRep.stderr).toMatch(/books: do not balance \(initialDeposit \+ realizedPnl − fees \+ fundingReceived − fundingPaid − liquidationPenalties \+ insuranceDraws is -?[\d.]+ away from wallet 109900\): the file was edited or damaged; run it again/);
    expect(walletRep.stderr).not.toMatch(/\n\s+at /);
    // a metric alone edited (the books still balance, the RunId re-derives): the content no longer hashes to the
    // file's digest (a totalReturn of 99 was rendered beside the run's net PnL); the file pretty-printed is still the same content
    cpSync(join(dir, 'P', 'shard-2'), join(dir, 'metric'), { recursive: true });
    const rm = JSON.parse(read(join(dir, 'metric', 'results', w))) as RunResult;
    expect(rm.digest).toMatch(/^[0-9a-f]{64}$/);
    const others = resultFiles(join(dir, 'metric')).filter((x) => x !== w);
    writeFileSync(join(dir, 'metric', 'results', others[0]!), JSON.stringify(JSON.parse(read(join(dir, 'metric', 'results', others[0]!))), null, 2));
    rm.metrics.totalReturn = 99;
    writeFileSync(join(dir, 'metric', 'results', w), JSON.stringify(rm));
    const metricRep = await runCli(['report', join(dir, 'metric')], dir);
    expect(metricRep.code).toBe(65);
    expect(metricRep.stderr).toContain(`${w}`);
    expect(metricRep.stderr).toMatch(/digest: the file's content hashes to [0-9a-f]{16}…, not to its digest [0-9a-f]{16}…: the file was edited or damaged \(a value in it changed since marginlab wrote it\); run it again/);
    expect(metricRep.stderr).not.toContain(others[0]!);
    expect(metricRep.stderr).not.toMatch(/\n\s+at /);
    // the manifest too: a planned run taken out of plan.runIds (its results missing would no longer be said)
    // or a configHash made up is refused (65) by report, merge and compare; re-indented it is the same content
    for (const [k, edit] of [
      ['runids', (m: RunManifest) => { m.plan!.runIds = m.plan!.runIds!.slice(1); }],
      ['hash', (m: RunManifest) => { m.configHash = '0000000000000000'; }],
    ] as const) {
      cpSync(join(dir, 'P', 'shard-2'), join(dir, `man-${k}`), { recursive: true });
      const mp = join(dir, `man-${k}`, 'manifest.json');
      const m = JSON.parse(read(mp)) as RunManifest;
      expect(m.digest).toMatch(/^[0-9a-f]{64}$/);
      edit(m);
      writeFileSync(mp, JSON.stringify(m, null, 2));
      for (const args of [['report', `man-${k}`], ['merge', `man-${k}`, '--out', `man-${k}-m`], ['compare', 'P/shard-2', `man-${k}`, '--out', `man-${k}-c`]]) {
        const r = await runCli(args, dir);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(65);
        expect(r.stderr).toContain(`${join(`man-${k}`, 'manifest.json')} is not a valid run manifest`);
        expect(r.stderr).toMatch(/digest: the file's content hashes to [0-9a-f]{16}…, not to its digest [0-9a-f]{16}…: the file was edited or damaged/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
    // --resume says so, checks every result and writes the manifest again
    const res = await runCli(['run', '-c', 'a.config.ts', '--shard', '2/2', '--out', 'man-runids', '--resume'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/marginlab: warning: --resume: .*man-runids.manifest\.json is not a valid run manifest \(digest: .*the file was edited or damaged \(a value in it changed since marginlab wrote it\)\); its plan, shard and strategy code are still checked against this command's, every result is checked against this plan and the manifest written again\n/);
    expect(res.stderr).toMatch(/0 runs to do \(4 already done/);
    expect((await runCli(['report', 'man-runids', '--quiet'], dir)).code).toBe(0);
    const mp2 = join(dir, 'man-hash', 'manifest.json');
    const orig = read(join(dir, 'P', 'shard-2', 'manifest.json'));
    writeFileSync(mp2, JSON.stringify(JSON.parse(orig)));
    expect((await runCli(['report', 'man-hash', '--quiet'], dir)).code).toBe(0);
    // the same shard in two folders: a retry of shard 1's failed run into a new folder is merged, the ok result winning
    cpSync(join(dir, 'P', 'shard-1'), join(dir, 'failed-1'), { recursive: true });
    const g = resultFiles(join(dir, 'failed-1'))[0]!;
    const good = JSON.parse(read(join(dir, 'failed-1', 'results', g))) as RunResult;
    writeFileSync(join(dir, 'failed-1', 'results', g), JSON.stringify(erroredResult(good.runId, good.spec, 'run timed out after 1000 ms')));
    for (const [k, order] of [['x3', ['failed-1', 'P/shard-2', 'P/shard-1']], ['x4', ['P/shard-1', 'failed-1', 'P/shard-2']]] as const) {
      const merged = await mergeRunFolders(order.map((d) => join(dir, d)), join(dir, k));
      expect(merged).toMatchObject({ runs: 8, missing: 0, duplicates: 4 });
      expect(JSON.parse(read(join(dir, k, 'results', g)))).toMatchObject({ status: 'ok' });
      expect(merged.manifest.runs).toMatchObject({ total: 8, errored: 0 });
    }
    // a missing shard: said in summary.json, report.md, report.html and by exit 1
    const half = await runCli(['merge', 'P/shard-1', '--out', 'half'], dir);
    expect(half.code).toBe(1);
    expect(half.stderr).toMatch(/incomplete: 4 of 8 planned runs are missing/);
    expect(JSON.parse(read(join(dir, 'half', 'summary.json')))).toMatchObject({ complete: false, counts: { total: 4, planned: 8, missing: 4 } });
    expect(read(join(dir, 'half', 'report.md'))).toMatch(/^# .*\n\n.*\n\n> \*\*Incomplete:\*\* 4 of the 8 planned runs have no result/);
    expect(read(join(dir, 'half', 'report.html'))).toContain('<b>Incomplete:</b> 4 of the 8 planned runs have no result');
    // the merged folder keeps how the shards were started: report's hint to finish it names their config (it said
    // `run --resume --out half`, which read the default backtest.config.ts and was refused as another plan)
    expect((JSON.parse(read(join(dir, 'half', 'manifest.json'))) as RunManifest).command).toEqual({ config: join(dir, 'a.config.ts') });
    const hint = /finish it with `([^`]+)`/.exec((await runCli(['report', 'half', '--formats', 'json'], dir)).stderr)?.[1];
    expect(hint).toMatch(/ run --resume -c a\.config\.ts --out half$/);
    // report renders exactly the plan: the foreign file is named and left out
    const rep = await runCli(['report', 'mixed', '--formats', 'json'], dir);
    expect(rep.stderr).toContain(`1 result file is not in the folder's plan and was left out: ${join('results', foreign)}`);
    expect(JSON.parse(read(join(dir, 'mixed', 'summary.json'))).runs).toHaveLength(4);
  });
});
