import { describe, expect, it } from 'vitest';
import { METRICS } from '../src/analysis/index.js';
import { SCHEMA_METRICS, resultProblems } from '../src/shard/result-schema.js';
import { makeResults } from './fixtures/report/fixture.js';

describe('the metrics a result file of this schema version must store', () => {
  it('are the registry of schema version 2: a metric added later is optional in files written before it', () => {
    // every metric schema 2 requires is still in the registry (a renamed or removed one would refuse every stored file) ...
    const ids = METRICS.map((m) => m.id);
    for (const id of SCHEMA_METRICS) expect(ids, id).toContain(id);
    // ... and the registry holds no metric beyond them until RESULT_SCHEMA_VERSION moves on (then add it to a new list)
    expect(ids.filter((id) => !SCHEMA_METRICS.includes(id))).toEqual([]);
  });

  it('a result without a metric the registry gained later still loads; one without a schema metric is refused', () => {
    const [r] = makeResults();
    const ok = JSON.parse(JSON.stringify(r)) as { metrics: Record<string, number | null> };
    expect(resultProblems(ok)).toEqual([]);
    // a metric of a newer registry present (a newer writer) or absent (an older one) alike
    expect(resultProblems({ ...ok, metrics: { ...ok.metrics, someLaterMetric: 1 } })).toEqual([]);
    const { totalReturn: _dropped, ...rest } = ok.metrics;
    expect(resultProblems({ ...ok, metrics: rest })).toEqual(['metrics.totalReturn: missing (an ok result stores every metric, null when undefined; run it again)']);
  });
});
