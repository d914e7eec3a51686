// bench:engine's reference thread entry: tsx's hooks for this thread (a worker's execArgv cannot carry `--import tsx`
// on Node 20: "Unknown file extension .ts"), then bench/fused-worker.ts
import { register } from 'tsx/esm/api';

register();
await import('./fused-worker.ts');
