// `npm run build` (also on prepare/prepack): compiles src/ and strategies/ to dist/ with
// tsconfig.build.json, then copies the .mjs entry points (CLI bin, worker and loader threads,
// loader registration), which are plain JavaScript already. Starts from an empty dist/ so that
// nothing deleted from src/ survives in the package.
// `--if-stale` (prepare, prepack: `npm pack` runs both) skips the build when dist/ is newer than
// every source file and build setting.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh, newestInput, stampText } from './dist-fresh.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');

if (process.argv.includes('--if-stale') && distIsFresh(root)) process.exit(0);
// the inputs as this build reads them: one saved while it runs is newer, and dist/ stale (dist-fresh.mjs)
const inputsAt = newestInput(root);
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build: tsc failed');
  process.exit(r.status ?? 1);
}

function copyMjs(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) copyMjs(p);
    else if (e.name.endsWith('.mjs')) {
      const out = join(dist, relative(root, p));
      mkdirSync(dirname(out), { recursive: true });
      copyFileSync(p, out);
    }
  }
}
// danfo.js is an optional peer dependency: a project without it must still type-check against the
// .d.ts files (strict, no skipLibCheck). Every line importing its types is marked @ts-ignore: the
// unresolved import is then `any`, which src/report/dataframe.ts turns into `unknown`.
function markDanfoImports(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) markDanfoImports(p);
    else if (e.name.endsWith('.d.ts')) {
      const text = readFileSync(p, 'utf8');
      if (!/['"]danfojs['"]/.test(text)) continue;
      const marked = text.replace(/^([ \t]*)((?:import|export|type|declare)\b.*['"]danfojs['"].*)$/gm, '$1// @ts-ignore -- danfojs is an optional peer dependency\n$1$2');
      writeFileSync(p, marked);
    }
  }
}
markDanfoImports(dist);
copyMjs(join(root, 'src'));
chmodSync(join(dist, 'src', 'cli', 'bin.mjs'), 0o755);
writeFileSync(stamp, stampText(inputsAt));
