/**
 * Progress of a sweep: a bar on a terminal (runs done/total, bars/s, ETA), a plain line every few
 * seconds otherwise (CI, nightly jobs), JSON events on stdout with --json, nothing with --quiet.
 */
import { describeStressPlan, type StressPlanSummary } from '../stress/plan.js';
import { visible } from '../util/excerpt.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

/** '2 workers', or '1 worker, up to 2 as the work needs' (workers: 'auto') */
function workerPhrase(s: ProgressStart): string {
  const n = (k: number) => `${k} worker${k === 1 ? '' : 's'}`;
  const first = s.initialWorkers ?? s.workers;
  return first < s.workers ? `${n(first)}, up to ${s.workers} as the work needs` : n(s.workers);
}

export interface ProgressStart {
  totalRuns: number;
  /** runs skipped because their result exists (--resume) */
  skipped: number;
  /** runs to execute now */
  pending: number;
  /** bars to replay (one pass per task) */
  totalBars: number;
  /** most workers the pool may use */
  workers: number;
  /** workers started at once (workers: 'auto' adds the others while the waiting work is worth it; absent: all) */
  initialWorkers?: number;
  shard: { index: number; count: number } | null;
  /** stress plans: scenario, injection-time and path counts (src/stress/plan.ts) */
  stress?: StressPlanSummary;
}

export interface ProgressReporter {
  start(s: ProgressStart): void;
  /** bars replayed so far (all workers) */
  bars(bars: number): void;
  /** `params`: the run's strategy params as a label (report/format.ts paramsLabel; '' when it has none) */
  runDone(r: { runId: string; strategy: string; params: string; setup: string; leverage: number; status: 'ok' | 'errored'; error?: string; stress?: string }): void;
  finish(s: { ok: number; errored: number; skipped: number; interrupted: boolean; wallClockMs: number; outDir: string }): void;
}

export function chooseProgressMode(opts: { quiet?: boolean; json?: boolean }, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (opts.json) return 'json';
  if (opts.quiet) return 'quiet';
  return stream.isTTY && process.env.CI !== 'true' ? 'tty' : 'plain';
}

function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function fmtRate(r: number): string {
  if (!Number.isFinite(r)) return '0';
  if (r >= 1e6) return `${(r / 1e6).toFixed(1)}M`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}k`;
  return r.toFixed(0);
}

class Tracker {
  t0 = Date.now();
  done = 0;
  errored = 0;
  bars = 0;
  start: ProgressStart = { totalRuns: 0, skipped: 0, pending: 0, totalBars: 0, workers: 0, shard: null };
  rate(): number {
    const s = (Date.now() - this.t0) / 1000;
    return s > 0 ? this.bars / s : 0;
  }
  eta(): number {
    // every run done: nothing left, though the bars count falls short of the total (a run that errored
    // or timed out early never replays the rest of its bars; it said "100%, ETA 3s")
    if (this.start.pending > 0 && this.done >= this.start.pending) return 0;
    const r = this.rate();
    if (this.start.totalBars > 0 && r > 0) return ((this.start.totalBars - this.bars) / r) * 1000;
    if (this.done > 0) return ((Date.now() - this.t0) / this.done) * (this.start.pending - this.done);
    return NaN;
  }
}

export function createProgress(mode: ProgressMode, out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream } = { stdout: process.stdout, stderr: process.stderr }, plainEveryMs = 5000): ProgressReporter {
  const t = new Tracker();
  if (mode === 'quiet') {
    return { start() {}, bars() {}, runDone() {}, finish() {} };
  }
  if (mode === 'json') {
    const emit = (o: Record<string, unknown>) => out.stdout.write(`${JSON.stringify(o)}\n`);
    let lastBars = 0;
    return {
      start(s) {
        t.start = s;
        t.t0 = Date.now();
        emit({ event: 'start', ...s });
      },
      bars(b) {
        t.bars = b;
        if (Date.now() - lastBars >= 1000) {
          lastBars = Date.now();
          emit({ event: 'progress', done: t.done, pending: t.start.pending, bars: b, barsPerSec: Math.round(t.rate()), etaMs: Math.round(t.eta()) || null });
        }
      },
      runDone(r) {
        t.done++;
        emit({ event: 'run', ...r, done: t.done, pending: t.start.pending });
      },
      finish(s) {
        emit({ event: 'done', ...s });
      },
    };
  }
  if (mode === 'plain') {
    let last = 0;
    const line = (force: boolean) => {
      if (!force && Date.now() - last < plainEveryMs) return;
      last = Date.now();
      const pct = t.start.pending > 0 ? Math.floor((100 * t.done) / t.start.pending) : 100;
      out.stderr.write(
        `marginlab: ${t.done}/${t.start.pending} runs (${pct}%)${t.errored ? `, ${t.errored} errored` : ''}, ${fmtRate(t.rate())} bars/s, ETA ${fmtDuration(t.eta())}\n`,
      );
    };
    return {
      start(s) {
        t.start = s;
        t.t0 = Date.now();
        last = Date.now();
        if (s.stress) out.stderr.write(`marginlab: ${describeStressPlan(s.stress)}\n`);
        out.stderr.write(
          `marginlab: ${s.pending} ${s.pending === 1 ? 'run' : 'runs'} to do${s.skipped ? ` (${s.skipped} already done, skipped)` : ''} of ${s.totalRuns}${s.shard ? ` in shard ${s.shard.index}/${s.shard.count}` : ''} on ${workerPhrase(s)}\n`,
        );
      },
      bars(b) {
        t.bars = b;
        line(false);
      },
      runDone(r) {
        t.done++;
        if (r.status === 'errored') {
          t.errored++;
          // names, params and the error shown with their control characters escaped (visible): a strategy's text must not recolour the terminal or forge a line
          out.stderr.write(visible(`marginlab: run ${r.runId} (${r.strategy}${r.params ? ` ${r.params}` : ''}, ${r.setup}, ${r.leverage}x${r.stress ? `, ${r.stress}` : ''}) errored: ${r.error ?? ''}`) + '\n');
        }
        line(false);
      },
      finish() {
        // nothing was to do (a --resume of a finished folder): the start line said so; "0/0 runs (100%), 0 bars/s, ETA ?" said nothing
        if (t.start.pending > 0) line(true);
      },
    };
  }
  // tty
  let bar: import('cli-progress').SingleBar | null = null;
  let pendingCreate: Promise<void> | null = null;
  const payload = () => ({ rate: fmtRate(t.rate()), etaText: fmtDuration(t.eta()), errored: t.errored ? ` ${t.errored} errored` : '' });
  return {
    start(s) {
      t.start = s;
      t.t0 = Date.now();
      if (s.stress) out.stderr.write(`marginlab: ${describeStressPlan(s.stress)}\n`);
      if (s.pending === 0) {
        out.stderr.write(`marginlab: nothing to do: ${s.skipped ? s.skipped === 1 ? 'its one run already done' : `all ${s.skipped} runs already done` : 'no runs'}${s.shard ? ` in shard ${s.shard.index}/${s.shard.count}` : ''}\n`);
        return;
      }
      pendingCreate = import('cli-progress').then((cp) => {
        bar = new cp.SingleBar(
          {
            format: 'marginlab |{bar}| {value}/{total} runs | {rate} bars/s | ETA {etaText}{errored}',
            hideCursor: true,
            stream: out.stderr,
            clearOnComplete: false,
            etaBuffer: 20,
          },
          cp.Presets.shades_classic,
        );
        bar.start(s.pending, t.done, payload());
      });
    },
    bars(b) {
      t.bars = b;
      bar?.update(t.done, payload());
    },
    runDone(r) {
      t.done++;
      if (r.status === 'errored') t.errored++;
      bar?.update(t.done, payload());
    },
    finish() {
      void pendingCreate?.then(() => bar?.stop());
      bar?.stop();
    },
  };
}
