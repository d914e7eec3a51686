/**
 * The `--fail-on` rules of `marginlab compare`. Grammar (whitespace ignored, rules separated by
 * commas or given in several --fail-on flags):
 *
 *   rule     := field op value
 *   field    := a metric id (docs/metrics.md: totalReturn, maxDrawdown, liquidations, fees, ...)
 *             | status                      (value: ok | errored; op: == or !=)
 *             | missing | added             (counts of runs in only one folder; absolute values)
 *   op       := > | >= | < | <= | == | !=
 *   value    := number                      the current run's value          (liquidations>0)
 *             | ( (+|-)number )             the current run's value, any sign (totalReturn<(-5),
 *                                           sharpe<(-0.5)): a bare signed number is a change
 *             | (+|-)number pp              change current − baseline, in percentage points;
 *                                           only for metrics measured in %    (maxDrawdown>+2pp)
 *             | (+|-)number                 change current − baseline, in the metric's unit
 *                                           (liquidations>+0, fees>+50)
 *             | (+|-)number %               relative change (current − baseline) / |baseline|
 *                                           (fees>+10%)
 *
 * A rule on a value applies to every run of the current folder (matched or added); a rule on a
 * change applies to matched runs. A metric that is null on a side (e.g. the Sharpe of a flat
 * curve, or an errored run) does not trigger a rule: `status!=ok` catches errored runs.
 * An unknown field, operator or value is a usage error (64).
 */
import { METRICS } from '../analysis/index.js';
import { decimalDiff, decimalRelChange } from '../analysis/money.js';
import { ExitCode, UserError } from '../errors.js';
import { didYouMean } from '../util/nearest.js';
import { excerpt } from '../util/excerpt.js';

export type RuleOp = '>' | '>=' | '<' | '<=' | '==' | '!=';
export type RuleKind = 'value' | 'delta' | 'relative' | 'status' | 'count';

export interface Rule {
  /** the rule as written (whitespace removed) */
  text: string;
  field: string;
  op: RuleOp;
  kind: RuleKind;
  /** threshold (value, delta in units or pp, relative as a fraction: 10% → 0.1); NaN for status rules */
  threshold: number;
  /** status rules: 'ok' | 'errored' */
  status?: 'ok' | 'errored';
}

const OPS: RuleOp[] = ['>=', '<=', '==', '!=', '>', '<'];
const METRIC_IDS = new Map(METRICS.map((m) => [m.id, m]));
export const RULE_FIELDS = ['status', 'missing', 'added', ...METRICS.map((m) => m.id)];

/** A rule's mistake: one line naming the rule and what to write instead. */
function usage(rule: string, what: string): UserError {
  // (the flag's text is the user's: a newline or a control character in it is shown escaped, a long one cut)
  return new UserError(`--fail-on: rule '${excerpt(rule)}': ${excerpt(what, 600)}`, ExitCode.USAGE);
}

function unknownField(rule: string, field: string): UserError {
  const near = didYouMean(field, RULE_FIELDS);
  return usage(rule, `unknown field '${field}'${near || ` (use status, missing, added or a metric id: ${METRICS.map((m) => m.id).join(', ')})`}`);
}

/** Parse the rules of one or more --fail-on flags. UserError 64 on any mistake. */
export function parseRules(specs: readonly string[]): Rule[] {
  const out: Rule[] = [];
  for (const spec of specs) {
    for (const raw of spec.split(',')) {
      const text = raw.replace(/\s+/g, '');
      if (text === '') throw usage(spec, 'empty rule (check the commas)');
      const m = /^([A-Za-z][A-Za-z0-9]*)(>=|<=|==|!=|>|<)(.+)$/.exec(text);
      if (!m) throw usage(text, `expected <field><op><value> with op one of ${OPS.join(' ')}, e.g. liquidations>0, maxDrawdown>+2pp, totalReturn<-1pp, fees>+10%, status!=ok, missing>0 (a negative value itself in parentheses: totalReturn<(-5))`);
      const field = m[1]!;
      const op = m[2] as RuleOp;
      const value = m[3]!;
      if (field === 'status') {
        if (op !== '==' && op !== '!=') throw usage(text, 'status takes == or !=');
        if (value !== 'ok' && value !== 'errored') throw usage(text, `status is ok or errored, not '${value}'`);
        out.push({ text, field, op, kind: 'status', threshold: Number.NaN, status: value });
        continue;
      }
      // a value of the metric itself with any sign: in parentheses (a bare signed number is a change)
      const whole = /^\(([+-]?(?:\d+(?:\.\d+)?|\.\d+))\)$/.exec(value);
      if (whole) {
        if (field === 'missing' || field === 'added') throw usage(text, `${field} is a count of runs: compare it with a plain number (${field}>0)`);
        if (!METRIC_IDS.has(field)) throw unknownField(text, field);
        out.push({ text, field, op, kind: 'value', threshold: Number(whole[1]) });
        continue;
      }
      const num = /^([+-])?(\d+(?:\.\d+)?|\.\d+)(pp|%)?$/.exec(value);
      if (!num) throw usage(text, `'${value}' is not a number (signed for a change: +2pp, -1, +10%; a negative value itself in parentheses: (-5))`);
      const signed = num[1] !== undefined;
      const n = Number(`${num[1] ?? ''}${num[2]}`);
      const suffix = num[3];
      if (field === 'missing' || field === 'added') {
        if (signed || suffix) throw usage(text, `${field} is a count of runs: compare it with a plain number (${field}>0)`);
        out.push({ text, field, op, kind: 'count', threshold: n });
        continue;
      }
      const metric = METRIC_IDS.get(field);
      if (!metric) throw unknownField(text, field);
      if (suffix && !signed) throw usage(text, `a ${suffix === 'pp' ? 'change in percentage points' : 'relative change'} needs a sign: ${field}${op}+${num[2]}${suffix} or ${field}${op}-${num[2]}${suffix}`);
      if (suffix === 'pp' && metric.format !== 'pct') throw usage(text, `${field} is not measured in % (unit: ${metric.unit}); write the change without pp`);
      if (suffix === '%') out.push({ text, field, op, kind: 'relative', threshold: n / 100 });
      else out.push({ text, field, op, kind: signed ? 'delta' : 'value', threshold: n });
    }
  }
  return out;
}

export function applyOp(op: RuleOp, a: number, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/** Whether a rule fails for one run: `base` absent for a run only in the current folder. */
export function ruleFails(
  rule: Rule,
  cur: { status: 'ok' | 'errored'; metrics: Record<string, number | null> },
  base: { status: 'ok' | 'errored'; metrics: Record<string, number | null> } | null,
): boolean {
  if (rule.kind === 'status') return rule.op === '==' ? cur.status === rule.status : cur.status !== rule.status;
  if (rule.kind === 'count') return false;
  const c = cur.metrics[rule.field];
  if (typeof c !== 'number' || !Number.isFinite(c)) return false;
  if (rule.kind === 'value') return applyOp(rule.op, c, rule.threshold);
  if (base === null) return false;
  const b = base.metrics[rule.field];
  if (typeof b !== 'number' || !Number.isFinite(b)) return false;
  // the change on the decimals the two figures print as: a rise of exactly 50 (97.76847767 → 147.76847767) is not
  // 'more than 50', where the doubles' difference is 50.000000000000014
  if (rule.kind === 'delta') return applyOp(rule.op, decimalDiff(c, b), rule.threshold);
  if (b === 0) return c === 0 ? applyOp(rule.op, 0, rule.threshold) : applyOp(rule.op, Math.sign(c) * Number.POSITIVE_INFINITY, rule.threshold);
  return applyOp(rule.op, decimalRelChange(c, b), rule.threshold);
}
