/**
 * Why JSON.parse refused a file's text, as one line for a message. V8 words it in several ways:
 * "… in JSON at position 9" (Node 20), "… at position 9 (line 2 column 5)" (Node 22), and
 * "Unexpected token '}', "{↵"a": }" is not valid JSON", which quotes the text itself, newlines
 * included (a message of several lines). The one home of this for every JSON file marginlab reads.
 */
import { excerpt } from './excerpt.js';

export interface JsonFault {
  /** V8's message without its position, on one line (control characters escaped, at most 200 characters) */
  message: string;
  /** where, 1-based as an editor counts, when V8 names a position; else null */
  line: number | null;
  column: number | null;
}

/** The fault of `text` that JSON.parse threw `err` for. */
export function jsonFault(text: string, err: unknown): JsonFault {
  const msg = err instanceof Error ? err.message : String(err);
  const at = /\s*(?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/.exec(msg);
  if (!at) return { message: excerpt(msg, 200), line: null, column: null };
  const before = text.slice(0, Number(at[1])).split('\n');
  return { message: excerpt(msg.replace(at[0], ''), 200), line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** jsonFault as text: `<message>, line L column C` (the place when known). */
export function jsonFaultText(text: string, err: unknown): string {
  const f = jsonFault(text, err);
  return f.line === null ? f.message : `${f.message}, line ${f.line} column ${f.column}`;
}
