/**
 * Where marginlab's own files are, whether it runs from its sources (src/…, through tsx) or from
 * the compiled package (dist/src/…): the folder of the nearest package.json named "marginlab"
 * above this file. Bundled data (venue tier snapshots, the sample dataset) and the version live
 * there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
        if (name === 'marginlab') return dir;
      } catch {
        // not a readable package.json: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`marginlab's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The package root (holds package.json, data/, and dist/ when built). */
export const PACKAGE_ROOT: string = findRoot();

let version: string | null = null;
/** marginlab's version, from its package.json. */
export function packageVersion(): string {
  if (version === null) {
    try {
      const v = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown }).version;
      version = typeof v === 'string' ? v : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

/**
 * The sample dataset bundled with the package: real Binance USD-M perpetuals (BTC, ETH, XRP, ADA),
 * 2025-05-22 → 2025-07-21, 1h/30m/1d candles, 8h mark and funding (data/README.md). `marginlab
 * init` points the new config at it, so that `marginlab run` works before any data is imported.
 */
export const SAMPLE_DATA: string = join(PACKAGE_ROOT, 'data', 'binance-usdm-2025');
