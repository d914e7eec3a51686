/**
 * Deep freeze of plain data (objects and arrays; functions are left as they are). The library's
 * shared tables (metric definitions, the crash pack, the indicator factory) are frozen: a worker's
 * passes share one instance of each, and a strategy that changed one would change the results of
 * every later run in that worker (src/shard/isolation.ts guards only the built-ins).
 */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v as object)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** a class, its prototype and its static members frozen (instances stay writable) */
export function freezeClass<C extends abstract new (...a: never[]) => unknown>(c: C): C {
  Object.freeze(c.prototype);
  return Object.freeze(c);
}
