/**
 * The DataFrame type of the analysis API (`loadResults`, `loadTrades`). danfo.js is an optional
 * peer dependency, so a project using marginlab's types may not have it: the build marks every
 * line of the shipped .d.ts files that imports its types `// @ts-ignore` (scripts/build.mjs).
 * There the unresolved import is `any`, which this alias turns into `unknown`, so a strict
 * project without danfo.js type-checks (no "Cannot find module" without skipLibCheck) and gets
 * no `any`; with danfo.js installed it is danfo.js's own DataFrame.
 */
import type { DataFrame as DanfoDataFrame } from 'danfojs';

type IsAny<T> = 0 extends 1 & T ? true : false;
// the tuple matters: a conditional on an unresolved import's `any` directly gives `any` again
export type DataFrame = [IsAny<DanfoDataFrame>] extends [true] ? unknown : DanfoDataFrame;
