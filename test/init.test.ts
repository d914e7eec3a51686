import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { initProject, installSpec } from '../src/cli/commands/init.js';
import { UserError } from '../src/errors.js';
import { SAMPLE_DATA } from '../src/index.js';
import { importConfigFile, resolveConfig } from '../src/config/index.js';
import { runCli } from './fixtures/run/cli.js';

describe('marginlab init', () => {
  it('writes package.json (when missing), config, example strategy, tsconfig and .gitignore', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ml-init-')), 'My Backtests');
    const out = await initProject(dir);
    expect(out.written).toEqual(['package.json', 'backtest.config.ts', join('strategies', 'example.ts'), 'tsconfig.json', '.gitignore']);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; type: string; devDependencies: Record<string, string> };
    expect(pkg.name).toBe('my-backtests');
    expect(pkg.type).toBe('module');
    // run from this checkout: npm installs marginlab from it (a registry range failed with E404: it is not published)
    expect(out.spec).toBe(`file:${relative(dir, resolve(import.meta.dirname, '..'))}`);
    expect(pkg.devDependencies.marginlab).toBe(out.spec);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('reports/');
    expect(readFileSync(join(dir, 'strategies', 'example.ts'), 'utf8')).toContain("from 'marginlab'");
    // npx tsc checks every config of the project (a second one, research.config.ts, was left out) and the strategies
    expect((JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { include: string[] }).include).toEqual(['*.config.ts', 'strategies']);
    expect(existsSync(join(SAMPLE_DATA, 'manifest.json'))).toBe(true);
    // the config it writes is valid and points at the bundled sample data ('marginlab' = this repository, as if installed)
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(resolve(import.meta.dirname, '..'), join(dir, 'node_modules', 'marginlab'), 'dir');
    const input = await importConfigFile(join(dir, 'backtest.config.ts'));
    const cfg = await resolveConfig(input, { configDir: dir, overrides: {}, source: 'backtest.config.ts' });
    expect(cfg.strategyDirs).toEqual(['strategies']);
    expect(cfg.data[0]!.path).toBe(SAMPLE_DATA);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an empty folder argument (an unset shell variable) is 64, nothing written: it wrote the project into the current folder', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ml-init-empty-'));
    const r = await runCli(['init', ''], cwd);
    expect(r).toMatchObject({ code: 64, stderr: 'marginlab: init: expected a project folder, got an empty string (leave the argument out for the current folder)\n' });
    expect(readdirSync(cwd)).toEqual([]);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('installSpec: where npm installs marginlab from, told by the project it is installed in', () => {
    const base = mkdtempSync(join(tmpdir(), 'ml-init-spec-'));
    const proj = join(base, 'work', 'proj');
    const root = join(proj, 'node_modules', 'marginlab');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'package.json'), '{"name":"marginlab","version":"0.1.0"}');
    const target = join(base, 'research');
    const pkg = (deps: object) => writeFileSync(join(proj, 'package.json'), JSON.stringify(deps));
    // a tarball saved as file: (what npm install ../x.tgz writes), relative to the new project
    pkg({ dependencies: { marginlab: 'file:../marginlab-0.1.0.tgz' } });
    expect(installSpec(target, root)).toBe('file:../work/marginlab-0.1.0.tgz');
    expect(installSpec(join(proj, 'sub'), root)).toBe('file:../../marginlab-0.1.0.tgz');
    // a devDependency written as a plain path, a registry range and a git URL
    pkg({ devDependencies: { marginlab: './vendor/marginlab' } });
    expect(installSpec(target, root)).toBe('file:../work/proj/vendor/marginlab');
    pkg({ devDependencies: { marginlab: '^0.2.0' } });
    expect(installSpec(target, root)).toBe('^0.2.0');
    pkg({ dependencies: { marginlab: 'git+https://example.org/marginlab.git' } });
    expect(installSpec(target, root)).toBe('git+https://example.org/marginlab.git');
    // installed with --no-save: the lock file says where from
    pkg({});
    writeFileSync(join(proj, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/marginlab': { resolved: 'file:../marginlab-0.1.0.tgz' } } }));
    expect(installSpec(target, root)).toBe('file:../work/marginlab-0.1.0.tgz');
    // nothing to tell: no spec (package.json then names no marginlab)
    rmSync(join(proj, 'package-lock.json'));
    expect(installSpec(target, root)).toBeNull();
    writeFileSync(join(proj, 'package.json'), '{ not json');
    expect(installSpec(target, root)).toBeNull();
    // pnpm's layout (node_modules/.pnpm/<pkg>/node_modules/marginlab): the project is above the first node_modules
    const pnpm = join(proj, 'node_modules', '.pnpm', 'marginlab@0.1.0', 'node_modules', 'marginlab');
    pkg({ devDependencies: { marginlab: 'file:../marginlab-0.1.0.tgz' } });
    expect(installSpec(target, pnpm)).toBe('file:../work/marginlab-0.1.0.tgz');
    // a package.json starting with a byte-order mark, as npm reads it
    writeFileSync(join(proj, 'package.json'), '\uFEFF' + JSON.stringify({ dependencies: { marginlab: '^0.3.0' } }));
    expect(installSpec(target, root)).toBe('^0.3.0');
    // a checkout (not under node_modules): the folder itself
    expect(installSpec(target, proj)).toBe('file:../work/proj');
    expect(installSpec(target, join(base, 'work'))).toBeNull(); // no package.json there: nothing npm can install
    rmSync(base, { recursive: true, force: true });
  });

  it("a package.json of the user's that does not parse stops init before it writes anything (78; run failed on it after)", async () => {
    // (a byte-order mark before a good one is fine, as npm reads it)
    const bom = join(mkdtempSync(join(tmpdir(), 'ml-init-bom-')), 'p');
    mkdirSync(bom);
    writeFileSync(join(bom, 'package.json'), '\uFEFF{"name":"x","type":"module"}');
    expect((await initProject(bom)).kept).toContain('package.json');
    for (const [text, why] of [['{ "name": "x", ', /is not valid JSON \(/], ['[1, 2]', /does not hold a JSON object/], ['null', /does not hold a JSON object/]] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'ml-init-badpkg-'));
      writeFileSync(join(dir, 'package.json'), text);
      const err = await initProject(dir).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect(err).toMatchObject({ exitCode: 78, message: expect.stringMatching(why) });
      expect((err as Error).message).toContain(`init writes nothing: ${join(dir, 'package.json')} is yours, but`);
      expect(readdirSync(dir)).toEqual(['package.json']);
      expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(text);
    }
  });

  it("in a subfolder of a project that uses marginlab: no second package.json, no npm install in the next steps (it wrote a project of its own there)", async () => {
    const proj = mkdtempSync(join(tmpdir(), 'ml-init-proj-'));
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'research', devDependencies: { marginlab: 'file:../marginlab-0.1.0.tgz' } }));
    mkdirSync(join(proj, 'node_modules'));
    symlinkSync(resolve(import.meta.dirname, '..'), join(proj, 'node_modules', 'marginlab'), 'dir');
    const r = await runCli(['init', 'backtests'], proj);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(proj, 'backtests', 'package.json'))).toBe(false);
    expect(existsSync(join(proj, 'backtests', 'backtest.config.ts'))).toBe(true);
    expect(r.stdout).toContain(`no package.json written: this folder is part of the project in ${proj}, which uses marginlab`);
    expect(r.stdout).not.toMatch(/npm install( +#|.*marginlab)/);
    expect(r.stdout).toContain('npx marginlab run');
    // a parent project that does not use marginlab: the subfolder gets a project of its own, as before
    const other = mkdtempSync(join(tmpdir(), 'ml-init-other-'));
    writeFileSync(join(other, 'package.json'), JSON.stringify({ name: 'web' }));
    expect((await initProject(join(other, 'bt'))).written).toContain('package.json');
  });

  it('a parent package.json that does not parse is no project to join, even with marginlab in its node_modules: the subfolder gets its own (its config loaded with "Error parsing …/package.json")', async () => {
    const proj = mkdtempSync(join(tmpdir(), 'ml-init-broken-'));
    writeFileSync(join(proj, 'package.json'), '{"name": "research", ');
    mkdirSync(join(proj, 'node_modules'));
    symlinkSync(resolve(import.meta.dirname, '..'), join(proj, 'node_modules', 'marginlab'), 'dir');
    const out = await initProject(join(proj, 'bt'));
    expect(out.enclosing).toBeNull();
    expect(out.written).toContain('package.json');
  });

  it("the next steps it prints paste into a shell: a folder with spaces or non-ASCII letters is one quoted word", async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-init-'));
    const r = await runCli(['init', "Mes backtests d'été"], parent);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("\n  cd 'Mes backtests d'\\''été'\n");
    const plain = await runCli(['init', 'plain-dir'], parent);
    expect(plain.stdout).toContain('\n  cd plain-dir\n');
  });

  it('never overwrites: one existing file → nothing written, exit 64 naming it; an existing package.json is kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-init-'));
    writeFileSync(join(dir, 'package.json'), '{"name":"mine","type":"commonjs"}\n');
    mkdirSync(join(dir, 'strategies'));
    writeFileSync(join(dir, 'strategies', 'example.ts'), '// mine\n');
    const err = await initProject(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(64);
    expect((err as UserError).message).toMatch(/example\.ts already exists/);
    expect(readdirSync(dir).sort()).toEqual(['package.json', 'strategies']);
    expect(readFileSync(join(dir, 'strategies', 'example.ts'), 'utf8')).toBe('// mine\n');
    const dir2 = mkdtempSync(join(tmpdir(), 'ml-init-'));
    writeFileSync(join(dir2, 'package.json'), '{"name":"mine","type":"commonjs"}\n');
    const out = await initProject(dir2);
    expect(out.kept).toEqual(['package.json']);
    expect(readFileSync(join(dir2, 'package.json'), 'utf8')).toBe('{"name":"mine","type":"commonjs"}\n');
  });

  it("in an existing repository: its tsconfig.json and .gitignore are kept as they are, and what the .gitignore lacks is said", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-init-'));
    writeFileSync(join(dir, '.gitignore'), '/node_modules\n*.log\n');
    writeFileSync(join(dir, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
    const out = await initProject(dir);
    expect(out.written).toEqual(['package.json', 'backtest.config.ts', join('strategies', 'example.ts')]);
    expect(out.kept).toEqual(['tsconfig.json', '.gitignore']);
    expect(out.gitignoreLacks).toEqual(['reports/']);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('/node_modules\n*.log\n');
    expect(readFileSync(join(dir, 'tsconfig.json'), 'utf8')).toBe('{ "compilerOptions": { "strict": true } }\n');
    // the CLI says it
    const repo = mkdtempSync(join(tmpdir(), 'ml-init-'));
    writeFileSync(join(repo, '.gitignore'), 'dist\n');
    const said = await runCli(['init'], repo);
    expect(said.code).toBe(0);
    expect(said.stdout).toContain('(kept your .gitignore)');
    expect(said.stdout).toContain('marginlab: your .gitignore lacks node_modules/ (installed packages) and reports/ (run folders): add them so that git leaves them out');
    // one missing: only what it holds (it said "lacks reports/ (installed packages, run folders)")
    const one = mkdtempSync(join(tmpdir(), 'ml-init-'));
    writeFileSync(join(one, '.gitignore'), 'node_modules\n');
    const saidOne = await runCli(['init'], one);
    expect(saidOne.stdout).toContain('marginlab: your .gitignore lacks reports/ (run folders): add it so that git leaves it out\n');
  });
  it("a folder the file system will not make or write is one line, exit 64 (under /proc it looped forever at full CPU, deaf to Ctrl-C; a file in the path was exit 70)", async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-init-'));
    writeFileSync(join(parent, 'afile'), 'x\n');
    const cases: [string, RegExp][] = [
      [join(parent, 'afile', 'proj'), /^marginlab: cannot create the folder .*afile.proj: a part of the path is a file, not a folder \(ENOTDIR\); choose a writable folder for init\n$/],
      [join(parent, 'afile'), /^marginlab: afile exists and is not a folder|exists and is not a folder/],
    ];
    if (process.platform === 'linux' && existsSync('/proc/self')) {
      cases.push(['/proc/marginlab-init-test/proj', /^marginlab: cannot create the folder \/proc\/marginlab-init-test(\/proj)?: .*\(E[A-Z]+\); choose a writable folder for init\n$/]);
    }
    for (const [dir, said] of cases) {
      const r = await runCli(['init', dir], parent);
      expect(r.code, `${dir}: ${r.stderr}`).toBe(64);
      expect(r.stderr).toMatch(said);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(parent)).toEqual(['afile']);
  }, 30_000);

  it("a folder it needs that cannot be made (`strategies` is a file) leaves no file of init behind (package.json was written before it, and taken back)", async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-init-'));
    mkdirSync(join(parent, 'proj'));
    writeFileSync(join(parent, 'proj', 'strategies'), 'mine\n');
    const r = await runCli(['init', 'proj'], parent);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(/^marginlab: cannot (create the folder|write) .*proj.strategies(.example\.ts)?: a part of the path is a file, not a folder \(ENOTDIR\); choose a writable folder for init\n$/);
    expect(readdirSync(join(parent, 'proj'))).toEqual(['strategies']);
    expect(readFileSync(join(parent, 'proj', 'strategies'), 'utf8')).toBe('mine\n');
  }, 30_000);
});
