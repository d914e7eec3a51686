/**
 * CONTRACT: strategy modules. A file in strategies/ default-exports a StrategyModule.
 * The Strategy object and the context it receives (StrategyContext) are defined by the engine
 * work (src/strategy, src/engine) below this module shape.
 */
import type { z } from 'zod';

export interface StrategyModule<S extends z.ZodType<Record<string, unknown>> = z.ZodType<Record<string, unknown>>> {
  /** registry name, kebab-case, equal to the file name */
  name: string;
  /** one line: what the strategy does and what it demonstrates about margin modes */
  description: string;
  /** zod schema of the params with defaults for every field */
  params: S;
  /** which of the dataset's symbols a run with these params trades (e.g. pairs: [params.long, params.short]) */
  symbols(params: z.output<S>): string[];
  create(params: z.output<S>): Strategy;
}

// Strategy and StrategyContext: defined by the engine work.
export interface Strategy {
  onBar(ctx: unknown): void;
}
