/**
 * Config and data failures that used to be "internal error" (70), silence or a crash: each is one
 * line naming the file (and key) with the documented exit code (issue 11).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, runCli, startCli, writeConfig } from './fixtures/run/cli.js';
import { writeDataset } from '../src/feed/write.js';
import { loadDataset } from '../src/feed/load.js';
import type { RunManifest } from '../src/shard/types.js';
import { loadErrorMessage, syntaxErrorOf } from '../src/util/module-default.js';
import { loadConfig, resolveConfig } from '../src/config/index.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-cfgfail-'));
  await makeDataset(join(dir, 'data'), { bars: 200, seed: 9 });
});

describe('config code that misbehaves', () => {
  it('a rejected promise, a promise that never settles, process.exit at load or in the function: 78 naming the file', async () => {
    writeFileSync(join(dir, 'rej.config.ts'), "export default Promise.reject(new Error('no secrets'));\n");
    writeFileSync(join(dir, 'never.config.ts'), 'export default new Promise(() => {});\n');
    writeFileSync(join(dir, 'exit.config.ts'), 'process.exit(0);\nexport default {};\n');
    writeFileSync(join(dir, 'exitfn.config.ts'), 'export default async () => { process.exit(3); };\n');
    const run = (c: string) => {
      const { child, done } = startCli(['run', '-c', c, '--out', `o-${c}`], dir);
      void child;
      return done;
    };
    // well above a config's load on a machine under load (1.5 s: the three that settle at once timed out under a load of 10+)
    process.env.MARGINLAB_CONFIG_TIMEOUT_MS = '4000';
    let outs;
    try {
      outs = await Promise.all(['rej.config.ts', 'never.config.ts', 'exit.config.ts', 'exitfn.config.ts'].map(run));
    } finally {
      delete process.env.MARGINLAB_CONFIG_TIMEOUT_MS;
    }
    const [rej, never, exit, exitfn] = outs;
    for (const r of outs) {
      expect(r.code).toBe(78);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
    expect(rej.stderr).toBe("marginlab: rej.config.ts: the config's promise was rejected: no secrets\n");
    expect(never.stderr).toMatch(/^marginlab: never\.config\.ts: the config's promise did not settle within 4 s/);
    expect(exit.stderr).toMatch(/^marginlab: exit\.config\.ts: the config called process\.exit\(0\); a config must export a config object/);
    expect(exitfn.stderr).toMatch(/exitfn\.config\.ts: the config called process\.exit\(3\)/);
  });

  it('a JSON config is read as data (it was "no default export"); bad JSON names file:line:column; a folder given as the config says so (66)', async () => {
    const ok = { name: 'js', data: './data', strategies: ['sma-cross'], leverage: [2] };
    writeFileSync(join(dir, 'ok.json'), `\uFEFF${JSON.stringify(ok, null, 2)}\n`);
    const loaded = await loadConfig(join(dir, 'ok.json'));
    expect(loaded.config).toMatchObject({ name: 'js', leverage: [2], data: [{ path: './data' }] });
    expect(loaded.baseDir).toBe(dir);
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ ...ok, levrage: 3 }));
    await expect(loadConfig(join(dir, 'typo.json'), {})).rejects.toMatchObject({ exitCode: 78, details: ["(root): unknown key 'levrage' (did you mean 'leverage'?)"] });
    writeFileSync(join(dir, 'bad.json'), '{ "name": "p",\n  "data": "./data",, }');
    await expect(loadConfig('bad.json'.replace(/^/, `${dir}/`))).rejects.toMatchObject({
      exitCode: 78,
      message: `${dir}/bad.json: not valid JSON at ${dir}/bad.json:2:20: Expected double-quoted property name`,
    });
    // a key written twice keeps the last in JSON.parse: the first leverage list was dropped in silence
    writeFileSync(join(dir, 'dup.json'), '{ "name": "js", "data": "./data", "strategies": ["sma-cross"],\n  "leverage": [3],\n  "leverage": [50] }');
    await expect(loadConfig(join(dir, 'dup.json'))).rejects.toMatchObject({
      exitCode: 78,
      message: `${dir}/dup.json: 'leverage' is written twice in (root) (at ${dir}/dup.json:3:3); JSON keeps only the last: keep one`,
    });
    writeFileSync(join(dir, 'dup2.json'), JSON.stringify(ok).replace('"sma-cross"', '{ "name": "sma-cross", "params": { "fast": 5, "fast": 8 } }'));
    await expect(loadConfig(join(dir, 'dup2.json'))).rejects.toMatchObject({ exitCode: 78, message: expect.stringContaining("'fast' is written twice in strategies[0].params") });
    // '__proto__' became the prototype of the copied config: its leverage [50] was read as the config's
    writeFileSync(join(dir, 'proto.json'), JSON.stringify({ name: 'js', data: './data', strategies: ['sma-cross'] }).replace(/}$/, ', "__proto__": { "leverage": [50] } }'));
    await expect(loadConfig(join(dir, 'proto.json'))).rejects.toMatchObject({ exitCode: 78, message: `${dir}/proto.json: '__proto__' is no config key (JavaScript reads it as the object's prototype); write its keys in the object itself` });
    mkdirSync(join(dir, 'cfgdir'), { recursive: true });
    writeFileSync(join(dir, 'cfgdir', 'backtest.config.ts'), 'export default {};\n');
    await expect(loadConfig(join(dir, 'cfgdir'))).rejects.toMatchObject({ exitCode: 66, message: `config file ${dir}/cfgdir is a folder, not a file; give the config file (-c ${dir}/cfgdir/backtest.config.ts)` });
    await expect(loadConfig(join(dir, 'data'))).rejects.toMatchObject({ exitCode: 66, message: `config file ${dir}/data is a folder, not a file; give the config file` });
    // the -c it suggests pastes into a shell as one word (util/shell.ts), as every command marginlab prints
    mkdirSync(join(dir, 'my cfg'), { recursive: true });
    writeFileSync(join(dir, 'my cfg', 'backtest.config.ts'), 'export default {};\n');
    await expect(loadConfig(join(dir, 'my cfg'))).rejects.toMatchObject({ exitCode: 66, message: `config file ${dir}/my cfg is a folder, not a file; give the config file (-c '${dir}/my cfg/backtest.config.ts')` });
  });

  it('a getter or proxy of the config that throws, and a config value that contains itself, are 78 naming the key (they were internal errors, 70)', async () => {
    const base = { name: 'p', data: './data', strategies: ['sma-cross'] };
    const err = (input: unknown) => resolveConfig(input as never, { configDir: dir, source: 'c.ts' });
    await expect(err({ ...base, get leverage() { throw new Error('getter boom'); } })).rejects.toMatchObject({ exitCode: 78, message: "c.ts: reading the config's key leverage failed: getter boom" });
    await expect(err({ ...base, output: { get dir() { throw new Error('deep'); } } })).rejects.toMatchObject({ exitCode: 78, message: "c.ts: reading the config's key output.dir failed: deep" });
    await expect(err({ ...base, execution: new Proxy({}, { ownKeys: () => { throw new Error('keys'); } }) })).rejects.toMatchObject({ exitCode: 78, message: 'c.ts: reading the config at execution failed: keys' });
    const params: Record<string, unknown> = { fast: 5 };
    params.self = params;
    await expect(err({ ...base, strategies: [{ name: 'sma-cross', params }] })).rejects.toMatchObject({ exitCode: 78, message: 'c.ts: strategies[0].params.self contains itself (it is strategies[0].params); a config is plain data, without cycles' });
    // a value used twice is no cycle
    const shared = { slippageBps: 2 };
    const twice = await resolveConfig({ ...base, execution: shared, strategies: [{ name: 'sma-cross', params: { a: shared, b: shared } }] } as never, { configDir: dir });
    expect(twice.strategies).toEqual([expect.objectContaining({ params: { a: { slippageBps: 2 }, b: { slippageBps: 2 } } })]);
    writeFileSync(join(dir, 'proxy.config.ts'), "export default new Proxy({}, { ownKeys() { throw new Error('proxy boom'); } });\n");
    await expect(loadConfig(join(dir, 'proxy.config.ts'))).rejects.toMatchObject({ exitCode: 78, message: `${join(dir, 'proxy.config.ts')}: reading the config's default export failed: proxy boom` });
  });

  it("data.timeframe '7x' and initialCapital '0' name the key and the file", async () => {
    writeConfig(dir, 'bad.config.ts', { name: 'x', data: { path: './data', timeframe: '7x' }, strategies: ['sma-cross'], initialCapital: '0' });
    const r = await runCli(['run', '-c', 'bad.config.ts', '--out', 'o-bad'], dir);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^marginlab: bad\.config\.ts: invalid config \(2 problems\)\n {2}data\.timeframe: expected a timeframe: a number and a unit .*\n {2}initialCapital: expected a positive decimal/);
  });

  it('a config outside the working folder is named one way by every message: its absolute path (schema errors said ../p/c.ts, plan-time ones the absolute path)', async () => {
    mkdirSync(join(dir, 'outside-cwd', 'cwd'), { recursive: true });
    writeConfig(join(dir, 'outside-cwd'), 'schema.config.ts', { name: 'x', data: { path: '../data', timeframe: '7x' }, strategies: ['sma-cross'] });
    writeConfig(join(dir, 'outside-cwd'), 'plan.config.ts', { name: 'x', data: { path: './nope' }, strategies: ['sma-cross'] });
    const cwd = join(dir, 'outside-cwd', 'cwd');
    const schema = await runCli(['run', '-c', '../schema.config.ts', '--out', 'o'], cwd);
    expect(schema.code).toBe(78);
    expect(schema.stderr).toMatch(new RegExp(`^marginlab: ${join(dir, 'outside-cwd', 'schema.config.ts').replace(/[.\\/]/g, '\\$&')}: invalid config \\(1 problem\\)`));
    const plan = await runCli(['run', '-c', '../plan.config.ts', '--out', 'o'], cwd);
    expect(plan.code).toBe(66);
    expect(plan.stderr).toMatch(new RegExp(`^marginlab: ${join(dir, 'outside-cwd', 'plan.config.ts').replace(/[.\\/]/g, '\\$&')}: data\\.path: dataset folder`));
    // inside the working folder: relative, however it was given
    const inside = await runCli(['run', '-c', `${join(dir, 'outside-cwd', 'schema.config.ts')}`, '--out', 'o'], join(dir, 'outside-cwd'));
    expect(inside.stderr).toMatch(/^marginlab: schema\.config\.ts: invalid config/);
  });
});

describe('a .cts file a config or a strategy reaches through a package name or a tsconfig paths alias ("type": "module")', () => {
  it('loads (it crashed with a stack trace, exit 1: Node 20 fails a require() of an ES module in it); one that throws is 78, one line (a stack trace followed the line)', async () => {
    const p = join(dir, 'cts-reach');
    mkdirSync(join(p, 'lib'), { recursive: true });
    mkdirSync(join(p, 'node_modules', 'ctslev'), { recursive: true });
    writeFileSync(join(p, 'package.json'), JSON.stringify({ name: 'cts-reach', private: true, type: 'module' }));
    writeFileSync(join(p, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', paths: { '@lev': ['./lib/lev.cts'], '@bad': ['./lib/bad.cts'] } } }));
    // the .cts file imports an ES module: its require() in the CommonJS that tsx makes of it
    for (const at of ['lib', join('node_modules', 'ctslev')]) {
      writeFileSync(join(p, at, 'esm.mjs'), 'export const lev = [3];\n');
      writeFileSync(join(p, at, at === 'lib' ? 'lev.cts' : 'index.cts'), "import { lev as l } from './esm.mjs';\nexport const lev: number[] = l;\n");
    }
    writeFileSync(join(p, 'node_modules', 'ctslev', 'package.json'), JSON.stringify({ name: 'ctslev', version: '1.0.0', main: 'index.cts' }));
    writeFileSync(join(p, 'lib', 'bad.cts'), "import { lev as l } from './esm.mjs';\nthrow new Error('helper broke');\nexport const lev: number[] = l;\n");
    const body = JSON.stringify({ name: 'cts', data: '../data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'] }).replace(/}$/, ', leverage: lev }');
    for (const [file, from] of [['pkg.config.ts', 'ctslev'], ['alias.config.ts', '@lev'], ['bad.config.ts', '@bad']]) {
      writeFileSync(join(p, file!), `import { lev } from '${from}';\nexport default ${body};\n`);
    }
    const [pkg, alias, bad] = await Promise.all(['pkg.config.ts', 'alias.config.ts', 'bad.config.ts'].map((c) => runCli(['strategies', '-c', c, '--json'], p)));
    for (const r of [pkg, alias]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(bad.stderr).toBe('marginlab: bad.config.ts: could not load the config: helper broke\n');
    expect(bad.code).toBe(78);
    // the library (through tsImport) loads them, and a second load after the one that threw finds no stray rejection of it
    await expect(loadConfig(join(p, 'bad.config.ts'))).rejects.toMatchObject({ exitCode: 78 });
    await expect(loadConfig(join(p, 'pkg.config.ts'))).resolves.toMatchObject({ config: { leverage: [3] } });

    // a strategy reaching them so: loads in the CLI and in the workers (it crashed the same way), or is 78, one line
    const zod = JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('zod')).href);
    for (const [folder, from] of [['good', 'ctslev'], ['bad', '@bad']]) {
      mkdirSync(join(p, folder));
      writeFileSync(
        join(p, folder, 'cts-user.ts'),
        `import { z } from ${zod};\nimport { lev } from '${from}';\nexport default { name: 'cts-user', description: 'leverage ' + lev, params: z.object({ symbol: z.string().default('AAAUSDT') }), symbols: (p: { symbol: string }) => [p.symbol], create: () => ({ onBar() {} }) };\n`,
      );
      writeFileSync(join(p, `${folder}.config.ts`), `export default ${JSON.stringify({ name: folder, data: '../data', strategyDirs: [folder], strategies: ['cts-user'], leverage: [3], workers: 1 })};\n`);
    }
    const [good, badStrategy] = await Promise.all(['good', 'bad'].map((f) => runCli(['run', '-c', `${f}.config.ts`, '--quiet'], p)));
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(badStrategy.stderr).toMatch(/^marginlab: bad\.config\.ts: invalid strategies \(1 problem\)\n {2}strategies\[0\]\.name: strategy 'cts-user' \(\S+cts-user\.ts\) failed to load: helper broke\n$/);
    expect(badStrategy.code).toBe(78);
  });
});

describe('syntax errors in user code', () => {
  it('a config that does not compile: 78, one line naming file:line:column and the compiler message', async () => {
    writeFileSync(join(dir, 'syntax.config.ts'), "export default { name: 'x' data: 'data/ft' };\n");
    const r = await runCli(['run', '-c', 'syntax.config.ts', '--out', 'o-syntax'], dir);
    expect(r.code).toBe(78);
    expect(r.stderr).toBe('marginlab: syntax.config.ts: could not load the config: syntax error at syntax.config.ts:1:28: Expected "}" but found "data"\n');
  });

  it('a strategy that does not compile: 78 from run and from strategies, naming file:line:column and the compiler message', async () => {
    mkdirSync(join(dir, 'broken-strats'), { recursive: true });
    writeFileSync(join(dir, 'broken-strats', 'broken.ts'), "export default {\n  name: 'broken'\n  description: 'x',\n};\n");
    writeConfig(dir, 'broken-strat.config.ts', { name: 'b', data: './data', strategyDirs: ['./broken-strats'], strategies: ['broken'] });
    const [run, list] = await Promise.all([
      runCli(['run', '-c', 'broken-strat.config.ts', '--out', 'o-broken-strat'], dir),
      runCli(['strategies', '--dir', 'broken-strats'], dir),
    ]);
    const where = /strategy 'broken' \(\S*broken-strats\/broken\.ts\) failed to load: syntax error at broken-strats\/broken\.ts:3:3: Expected "}" but found "description"$/m;
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(where);
    expect(list.code).toBe(78);
    expect(list.stderr).toMatch(where);
    expect(list.stderr.trim().split('\n')).toHaveLength(1);
    for (const r of [run, list]) expect(r.stderr).not.toMatch(/Transform failed|internal error/);
  });

  it("a strategy folder holding a library strategy's name is named once as the strategyDirs' problem, not as the problem of each entry the config names", async () => {
    mkdirSync(join(dir, 'twice-strats'), { recursive: true });
    writeFileSync(join(dir, 'twice-strats', 'sma-cross.ts'), "export { default } from 'marginlab/strategies/sma-cross';\n");
    writeFileSync(join(dir, 'twice-strats', 'mine.ts'), "export default { name: 'mine', description: 'x', params: { parse: (p: unknown) => p }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() {} }) };\n");
    writeConfig(dir, 'twice.config.ts', { name: 't', data: './data', strategyDirs: ['./twice-strats'], strategies: ['mine', 'buy-and-hold'] });
    const r = await runCli(['run', '-c', 'twice.config.ts', '--out', 'o-twice'], dir);
    expect(r.code).toBe(78);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('defined twice'))).toHaveLength(1);
    expect(r.stderr).toMatch(/^\s*strategyDirs: strategy 'sma-cross' is defined twice: \S*sma-cross\.[jt]s and \S*twice-strats\/sma-cross\.ts: 'sma-cross' is a library strategy; rename your file/m);
    expect(r.stderr).not.toMatch(/strategies\[\d\]\.name: strategy 'sma-cross'/);
  });

  it('a strategy file whose name holds a control character (ESC, a line break, a bidi override) is refused when the folders are scanned: 78, one line naming the files escaped, from run and from strategies', async () => {
    mkdirSync(join(dir, 'ctl-strats'), { recursive: true });
    const body = (name: string) => `export default { name: ${JSON.stringify(name)}, description: 'x', params: { parse: (p: unknown) => p, safeParse: () => ({ success: true, data: {} }) }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() { throw new Error('bad'); } }) };\n`;
    for (const name of ['esc\u001b[31mRED\u001b[0m\u0007', 'x\nmarginlab: all runs ok, nothing to see', 'rtl\u202e x']) writeFileSync(join(dir, 'ctl-strats', `${name}.ts`), body(name));
    writeFileSync(join(dir, 'ctl-strats', 'plain.ts'), body('plain'));
    writeConfig(dir, 'ctl.config.ts', { name: 'ctl', data: './data', strategyDirs: ['./ctl-strats'], strategies: ['plain', 'buy-and-hold'] });
    // a description (the strategy author's text) is listed with its control characters escaped
    mkdirSync(join(dir, 'desc-strats'), { recursive: true });
    writeFileSync(join(dir, 'desc-strats', 'desc.ts'), body('desc').replace("description: 'x'", "description: 'x\\u001b[2J\\nmarginlab: fake \\u202e'"));
    const [run, list, desc] = await Promise.all([
      runCli(['run', '-c', 'ctl.config.ts', '--out', 'o-ctl'], dir),
      runCli(['strategies', '--dir', 'ctl-strats'], dir),
      runCli(['strategies', '--dir', 'desc-strats'], dir),
    ]);
    expect(desc.stderr).toBe('');
    expect(desc.code).toBe(0);
    expect(desc.stdout).toMatch(/^desc +x\\x1b\[2J\\nmarginlab: fake \\u202e$/m);
    expect(desc.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    const files = /strategy files whose name holds a control character: \S*ctl-strats\/esc\\x1b\[31mRED\\x1b\[0m\\x07\.ts \(\\x1b, character 4\), \S*ctl-strats\/rtl\\u202e x\.ts \(\\u202e, character 4\), \S*ctl-strats\/x\\nmarginlab: all runs ok, nothing to see\.ts \(\\n, character 2\); a strategy's file name is its name in run labels, runs\.csv and the reports: rename them \(e\.g\. letters, digits and -\)$/;
    expect(run.code).toBe(78);
    // the folders' problem, said once (not once per strategy the config names)
    expect(run.stderr).toBe(`marginlab: ctl.config.ts: invalid strategies (1 problem)\n${run.stderr.split('\n')[1]}\n`);
    expect(run.stderr.split('\n')[1]).toMatch(/^ {2}strategyDirs: /);
    expect(run.stderr.split('\n')[1]).toMatch(files);
    expect(list.code).toBe(78);
    expect(list.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(list.stderr.trim()).toMatch(/^marginlab: /);
    expect(list.stderr.trim()).toMatch(files);
    for (const r of [run, list]) expect(r.stderr + r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
  });

  it('a strategy file or a config whose path holds a backslash: 78, one line naming the user\'s file and what to rename (Node\'s "Invalid module … imported from" marginlab\'s own file)', async () => {
    mkdirSync(join(dir, 'bs-strats'), { recursive: true });
    writeFileSync(join(dir, 'bs-strats', '@x"y\'z\\.ts'), "export default { name: '@x\"y\\'z\\\\', description: 'x', params: { parse: (p: unknown) => p }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() {} }) };\n");
    mkdirSync(join(dir, 'bs\\dir'), { recursive: true });
    writeConfig(dir, 'b\\s.config.ts', { name: 'bs', data: './data', strategies: ['sma-cross'] });
    writeConfig(join(dir, 'bs\\dir'), 'in.config.ts', { name: 'bs', data: '../data', strategies: ['sma-cross'] });
    const [list, cfg, folder] = await Promise.all([
      runCli(['strategies', '--dir', 'bs-strats'], dir),
      runCli(['run', '-c', 'b\\s.config.ts', '--out', 'o-bs'], dir),
      runCli(['run', '-c', 'bs\\dir/in.config.ts', '--out', 'o-bs2'], dir),
    ]);
    expect(list.code).toBe(78);
    expect(list.stderr).toMatch(/^marginlab: strategy '@x"y'z\\' \(\S*bs-strats\/@x"y'z\\\.ts\) failed to load: Node cannot import a file whose path holds a backslash: rename the file without it\n$/);
    expect(cfg.code).toBe(78);
    expect(cfg.stderr).toBe("marginlab: b\\s.config.ts: could not load the config: Node cannot import a file whose path holds a backslash: rename the file without it\n");
    expect(folder.code).toBe(78);
    expect(folder.stderr).toBe("marginlab: bs\\dir/in.config.ts: could not load the config: Node cannot import a file whose path holds a backslash: rename the folder 'bs\\dir' without it\n");
    for (const r of [list, cfg, folder]) expect(r.stderr).not.toMatch(/Invalid module|%5C|user-import/);
  });

  it("an error a strategy's or a config's top-level code throws names its line, as a syntax error does (it gave the message alone)", async () => {
    mkdirSync(join(dir, 'top-strats'), { recursive: true });
    writeFileSync(join(dir, 'top-strats', 'top.ts'), "const x = 1;\nconst cfg = JSON.parse('{bad json');\nexport default { name: 'top', description: 'x', params: { parse: (p: unknown) => p }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() {} }) };\n");
    writeConfig(dir, 'top-strat.config.ts', { name: 't', data: './data', strategyDirs: ['./top-strats'], strategies: ['top'] });
    writeFileSync(join(dir, 'top-throws.config.ts'), "const n: number = 2;\nif (n > 1) throw new Error('config helper broke');\nexport default { name: 'x', data: './data', strategies: ['sma-cross'] };\n");
    const [run, config] = await Promise.all([
      runCli(['run', '-c', 'top-strat.config.ts', '--out', 'o-top-strat'], dir),
      runCli(['run', '-c', 'top-throws.config.ts', '--out', 'o-top-throws'], dir),
    ]);
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(/strategy 'top' \(\S*top-strats\/top\.ts\) failed to load: [^\n]*JSON[^\n]* \(at top-strats\/top\.ts:2:\d+\)$/m);
    expect(config.code).toBe(78);
    expect(config.stderr).toMatch(/^marginlab: top-throws\.config\.ts: could not load the config: config helper broke \(at top-throws\.config\.ts:2:\d+\)\n$/);
  });

  it('a strategy file given as the config, and a config file in a strategy folder: 78, one line saying which kind of file it is (were lists of unknown and missing keys)', async () => {
    mkdirSync(join(dir, 'kinds'), { recursive: true });
    // a strategy as a user writes it (defineStrategy returns its argument)
    writeFileSync(
      join(dir, 'kinds', 'mine.ts'),
      "export default { name: 'mine', description: 'x', params: { parse: (p: unknown) => p }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() {} }) };\n",
    );
    // a config kept in a folder the config scans for strategies
    writeConfig(join(dir, 'kinds'), 'backtest.config.ts', { name: 'k', data: '../data', strategyDirs: ['.'], strategies: ['mine'] });
    const [asConfig, scanned] = await Promise.all([
      runCli(['run', '-c', 'kinds/mine.ts', '--out', 'o-kinds'], dir),
      runCli(['strategies', '--dir', 'kinds'], dir),
    ]);
    expect(asConfig.code).toBe(78);
    expect(asConfig.stderr).toBe(
      "marginlab: kinds/mine.ts default-exports a strategy (defineStrategy), not a config: give --config a config file (export default defineConfig({...}), e.g. backtest.config.ts) that names 'mine' in its strategies and the strategy's folder in strategyDirs\n",
    );
    expect(scanned.code).toBe(78);
    expect(scanned.stderr).toMatch(/^marginlab: strategy file \S*kinds\/backtest\.config\.ts default-exports a config \(its data and strategies keys\), not a strategy: move it out of the strategy folder/);
    for (const r of [asConfig, scanned]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a config exporting defineConfig itself (not called), a strategy file exporting defineStrategy: 78, one line saying to call it (was the environment object read as the config: unknown keys env, configDir, ci and three missing)', async () => {
    // a project of the user's: 'marginlab' is this repository, as if installed
    const proj = join(dir, 'uncalled');
    mkdirSync(join(proj, 'node_modules'), { recursive: true });
    symlinkSync(join(import.meta.dirname, '..'), join(proj, 'node_modules', 'marginlab'), 'dir');
    writeFileSync(join(proj, 'uncalled.config.ts'), "import { defineConfig } from 'marginlab';\nexport default defineConfig;\n");
    const r = await runCli(['run', '-c', 'uncalled.config.ts', '--out', 'o-uncalled'], proj);
    expect(r.code).toBe(78);
    expect(r.stderr).toBe("marginlab: uncalled.config.ts: the default export is defineConfig itself, not a config: call it, export default defineConfig({ name: ..., data: ..., strategies: [...] })\n");
    // so for a strategy file exporting defineStrategy (it said "it exports a function, not an object")
    mkdirSync(join(proj, 'strategies'));
    writeFileSync(join(proj, 'strategies', 'mine.ts'), "import { defineStrategy } from 'marginlab';\nexport default defineStrategy;\n");
    const s = await runCli(['strategies', '--dir', 'strategies'], proj);
    expect(s.code).toBe(78);
    expect(s.stderr).toBe(`marginlab: strategy file ${join(proj, 'strategies', 'mine.ts')} default-exports defineStrategy itself, not a strategy: call it, export default defineStrategy({ name: 'mine', description, params, symbols, create })\n`);
  });

  it('a strategy of the user\'s named by a config without strategyDirs: the unknown name says which key to add (it listed the library only)', async () => {
    const proj = join(dir, 'no-dirs');
    mkdirSync(join(proj, 'strategies'), { recursive: true });
    cpSync(join(FIXTURE_STRATEGIES, 'fixture-trend.ts'), join(proj, 'strategies', 'fixture-trend.ts'));
    cpSync(join(FIXTURE_STRATEGIES, 'fixture-trend.ts'), join(proj, 'fixture-trend.ts'));
    writeConfig(proj, 'sub.config.ts', { name: 'nd', data: '../data', strategies: ['fixture-trend'] });
    const r = await runCli(['run', '-c', 'no-dirs/sub.config.ts', '--out', 'o-no-dirs'], dir);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^ {2}strategies\[0\]\.name: unknown strategy 'fixture-trend'; available: .*; strategies\/fixture-trend\.ts is there, but no strategy folder of the config holds it: add strategyDirs: \['strategies'\] to the config$/m);
    // only beside the config: not its own folder as a strategy folder (the config would be loaded as a strategy)
    rmSync(join(proj, 'strategies'), { recursive: true });
    const here = await runCli(['run', '-c', 'no-dirs/sub.config.ts', '--out', 'o-no-dirs'], dir);
    expect(here.stderr).toMatch(/; fixture-trend\.ts is there, but no strategy folder of the config holds it: move it into a folder of its own \(e\.g\. strategies\/\) and add strategyDirs: \['strategies'\] to the config$/m);
    // a name with no such file: as before
    writeConfig(proj, 'typo.config.ts', { name: 'nd', data: '../data', strategies: ['fixture-trnd'] });
    const typo = await runCli(['run', '-c', 'no-dirs/typo.config.ts', '--out', 'o-no-dirs'], dir);
    expect(typo.stderr).toMatch(/unknown strategy 'fixture-trnd'; available: [^;]*$/m);
  });

  it("esbuild's TransformError thrown in this thread (its errors array) reads the same; other errors are left alone", () => {
    const err = Object.assign(new Error('Transform failed with 2 errors:\n/p/a.ts:2:4: ERROR: Unexpected "}"'), {
      errors: [
        { text: 'Unexpected "}"', location: { file: '/p/a.ts', line: 2, column: 4, lineText: '  } }' } },
        { text: 'Expected ";"', location: { file: '/p/a.ts', line: 3, column: 0, lineText: 'x' } },
      ],
    });
    expect(syntaxErrorOf(err)).toEqual({ file: '/p/a.ts', line: 2, column: 5, text: 'Unexpected "}"', more: 1 });
    expect(loadErrorMessage(err)).toBe('syntax error at /p/a.ts:2:5: Unexpected "}" (and 1 more error)');
    expect(syntaxErrorOf(new Error('Transform failed with 1 error:\n/p/b.ts:10:0: ERROR: Unterminated string literal'))).toEqual({ file: '/p/b.ts', line: 10, column: 1, text: 'Unterminated string literal', more: 0 });
    expect(syntaxErrorOf(new Error("Cannot find package 'x'"))).toBeNull();
  });

  it('a top-level await in a file loaded as CommonJS (a .ts config or strategy of a "type": "commonjs" project, npm init\'s default) says what to do, as a require of an ES module does', () => {
    const err = new Error('Transform failed with 1 error:\n/p/tla.config.ts:1:12: ERROR: Top-level await is currently not supported with the "cjs" output format');
    expect(loadErrorMessage(err)).toBe(
      'syntax error at /p/tla.config.ts:1:13: Top-level await is currently not supported with the "cjs" output format (the file is loaded as CommonJS: add "type": "module" to your package.json, or rename the file to .mts)',
    );
  });
});

describe('data checks', () => {
  it("gaps: 'warn' warns on stderr, in manifest.warnings and in the reports", async () => {
    const H = 3_600_000;
    const time = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => Date.UTC(2025, 0, 1) + i * H);
    const n = time.length;
    const c = (v: number) => Array.from({ length: n }, () => v);
    await writeDataset(join(dir, 'gappy'), { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'AAAUSDT', kind: 'candles', timeframe: '1h', time, columns: { open: c(100), high: c(101), low: c(99), close: c(100), volume: c(5) } }] });
    writeConfig(dir, 'gaps.config.ts', { name: 'g', data: { path: './gappy', gaps: 'warn' }, strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 3 } }], leverage: [3], workers: 1 });
    const r = await runCli(['run', '-c', 'gaps.config.ts', '--out', 'o-gaps'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/marginlab: warning: dataset gappy: .*gap/i);
    const m = JSON.parse(readFileSync(join(dir, 'o-gaps', 'manifest.json'), 'utf8')) as RunManifest;
    expect(m.warnings?.some((w) => /^dataset gappy: .*gap/i.test(w))).toBe(true);
    expect(readFileSync(join(dir, 'o-gaps', 'report.md'), 'utf8')).toMatch(/> \*\*Note:\*\* dataset gappy: .*gap/i);
  });

  // the loader's hint said 'data.gaps: 'warn' in the config, or --gaps warn' to `marginlab run`, which has no --gaps
  // (unknown option '--gaps'): the flag is data validate's and data inspect's
  it('a gap refused by a run names the config key, and the flag only with the commands that take it', async () => {
    const H = 3_600_000;
    const time = Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 10).map((i) => Date.UTC(2025, 0, 1) + i * H);
    const c = (v: number) => time.map(() => v);
    await writeDataset(join(dir, 'gappy-run'), { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'AAAUSDT', kind: 'candles', timeframe: '1h', time, columns: { open: c(100), high: c(101), low: c(99), close: c(100), volume: c(5) } }] });
    writeConfig(dir, 'gappy-run.config.ts', { name: 'gr', data: './gappy-run', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 3 } }], leverage: [3], workers: 1 });
    const r = await runCli(['run', '-c', 'gappy-run.config.ts', '--out', 'o-gappy-run'], dir);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toContain("(gaps are errors: data.gaps: 'warn' in the config, --gaps warn of data validate and data inspect, or loadDataset's { gaps: 'warn' } loads");
    expect(r.stderr).not.toContain('or --gaps warn,');
    const flag = await runCli(['run', '-c', 'gappy-run.config.ts', '--out', 'o-gappy-run2', '--gaps', 'warn'], dir);
    expect(flag.code).toBe(64);
  });

  it('more than 20 gap warnings: the hint is a command that lists them all (the dataset folder, quoted, at the config\'s timeframe)', async () => {
    const H = 3_600_000;
    // 30 one-bar gaps, in a folder whose name is not the path and needs quoting (every third bar missing: 2h is the most
    // common step, yet the 1h steps fit no 2h timeframe, so these are a 1h series' gaps, not 2h candles)
    const time = Array.from({ length: 90 }, (_, i) => i).filter((i) => i % 3 !== 1).map((i) => Date.UTC(2025, 0, 1) + i * H);
    const n = time.length;
    const c = (v: number) => Array.from({ length: n }, () => v);
    await writeDataset(join(dir, 'my data', 'gappy many'), { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'AAAUSDT', kind: 'candles', timeframe: '1h', time, columns: { open: c(100), high: c(101), low: c(99), close: c(100), volume: c(5) } }] });
    writeConfig(dir, 'gaps-many.config.ts', { name: 'gm', data: { path: './my data/gappy many', timeframe: '1h', gaps: 'warn' }, strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 3 } }], leverage: [3], workers: 1 });
    const r = await runCli(['run', '-c', 'gaps-many.config.ts', '--out', 'o-gaps-many'], dir);
    expect(r.code).toBe(0);
    // 31 warnings: the 30 gaps and the dataset's missing funding
    const hint = /\.\.\. and 11 more warnings \(`npx marginlab (data validate .*)` lists them all\)/.exec(r.stderr);
    expect(hint?.[1]).toBe("data validate 'my data/gappy many' --timeframe 1h --gaps warn");
    // the hint, run as written (a shell splits it into these words), lists all 30
    const v = await runCli(['data', 'validate', 'my data/gappy many', '--timeframe', '1h', '--gaps', 'warn'], dir);
    expect(v.code).toBe(0);
    expect(v.stderr.match(/gap of 1 bar/g)).toHaveLength(30);
  });

  /** a copy of the test dataset named `name`, and a folder `outside` beside it holding a copy of its AAAUSDT candles */
  const datasetWithOutside = (name: string, outsideName: string) => {
    const ds = join(dir, name);
    cpSync(join(dir, 'data'), ds, { recursive: true });
    const outside = join(dir, outsideName);
    mkdirSync(outside);
    const f = 'AAAUSDT-candles-1h.arrow';
    cpSync(join(ds, f), join(outside, f));
    return { ds, outside, f };
  };
  /** rewrite a dataset's manifest.json through `change` */
  const editManifest = <M>(ds: string, change: (m: M) => void) => {
    const m = JSON.parse(readFileSync(join(ds, 'manifest.json'), 'utf8')) as M;
    change(m);
    writeFileSync(join(ds, 'manifest.json'), JSON.stringify(m));
  };

  it('a data file that is a link out of the dataset folder is refused (as ".." is); a link inside it loads; a symbol listed twice names the manifest', async () => {
    const { ds, outside, f } = datasetWithOutside('linked', 'elsewhere');
    const { rmSync } = await import('node:fs');
    rmSync(join(ds, f));
    symlinkSync(join(outside, f), join(ds, f));
    await expect(loadDataset(ds)).rejects.toMatchObject({ exitCode: 65, details: [expect.stringMatching(new RegExp(`^manifest\\.json: ${f} is a symbolic link to .*elsewhere.*outside the dataset folder`))] });
    rmSync(join(ds, f));
    mkdirSync(join(ds, 'store'));
    cpSync(join(outside, f), join(ds, 'store', f));
    symlinkSync(join(ds, 'store', f), join(ds, f));
    await expect(loadDataset(ds)).resolves.toBeTruthy();
    editManifest<{ symbols: string[] }>(ds, (man) => void man.symbols.push(man.symbols[0]!));
    await expect(loadDataset(ds)).rejects.toMatchObject({ exitCode: 65, message: expect.stringContaining(join(ds, 'manifest.json')), details: expect.arrayContaining([expect.stringMatching(/^symbols: AAAUSDT listed twice/)]) });
  });

  it('a data file reached through a linked folder out of the dataset is refused as a linked file is', async () => {
    const { ds, outside, f } = datasetWithOutside('linked-folder', 'elsewhere-folder');
    symlinkSync(outside, join(ds, 'sub'));
    editManifest<{ files: { path: string }[] }>(ds, (man) => {
      for (const e of man.files) if (e.path === f) e.path = `sub/${f}`;
    });
    await expect(loadDataset(ds)).rejects.toMatchObject({
      exitCode: 65,
      details: [expect.stringMatching(new RegExp(`^manifest\\.json: sub/${f} resolves, through a linked folder on its path, to .*elsewhere-folder.*outside the dataset folder`))],
    });
  });

  it("a manifest's symbols meet an import's rules: '__proto__', a space, and names differing only in case are refused (65)", async () => {
    for (const [from, to, said] of [
      ['AAAUSDT', '__proto__', "symbols: '__proto__' is '__proto__', a name JavaScript objects reserve; rename the symbol"],
      ['AAAUSDT', '../AAA USDT', "symbols: '../AAA USDT' holds a space or a control character"],
      ['AAAUSDT', 'bbbusdt', "symbols: 'bbbusdt' and 'BBBUSDT' differ only in letter case (their files cannot both live in a folder on every file system); import one of them into another dataset"],
    ] as const) {
      const ds = join(dir, `sym-${to.replace(/\W/g, '')}`);
      cpSync(join(dir, 'data'), ds, { recursive: true });
      editManifest<{ symbols: string[]; files: { symbol: string }[] }>(ds, (man) => {
        man.symbols = man.symbols.map((x) => (x === from ? to : x));
        for (const e of man.files) if (e.symbol === from) e.symbol = to;
      });
      await expect(loadDataset(ds), to).rejects.toMatchObject({ exitCode: 65, details: expect.arrayContaining([said]) });
    }
  });
});
