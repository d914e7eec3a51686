/**
 * The memory this process may use: one home for the worker heap limits (shard/execute.ts) and the
 * heap a folder's reading may take (report/heap.ts).
 */
import { totalmem } from 'node:os';

/** The memory this process may use, in bytes: its cgroup limit (a container, a Slurm job) when it has one below the machine's, else the machine's. */
export function processMemoryBytes(): number {
  const total = totalmem();
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : undefined;
  return constrained !== undefined && constrained > 0 && constrained < total ? constrained : total;
}
