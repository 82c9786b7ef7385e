import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from './metrics.ts';

describe('metrics', () => {
  it('renders counters, gauges and histograms in the Prometheus text format, one registry per call', async () => {
    const m = createMetrics();
    m.counter('http_requests_total', 'requests').inc({ method: 'GET', status: '200' });
    m.counter('http_requests_total', 'requests').inc({ method: 'GET', status: '200' }, 2);
    m.gauge('outbox_orphaned_events', 'orphans').set(7);
    m.histogram('command_seconds', 'latency', { buckets: [0.1, 1] }).observe({ route: '/orders' }, 0.5);
    let scraped = 0;
    m.onScrape(() => void scraped++);
    const text = await m.render();
    assert.match(text, /^http_requests_total\{method="GET",status="200"\} 3$/m);
    assert.match(text, /^outbox_orphaned_events 7$/m);
    assert.match(text, /^command_seconds_bucket\{le="0.1",route="\/orders"\} 0$/m);
    assert.match(text, /^command_seconds_bucket\{le="1",route="\/orders"\} 1$/m);
    assert.equal(scraped, 1);
    assert.doesNotMatch(await createMetrics().render(), /http_requests_total/, 'registries are not shared');
    assert.match(m.contentType, /text\/plain/);
  });

  it('fixes label names by the first use, and refuses a different set (a split series is a bug)', () => {
    const m = createMetrics();
    const c = m.counter('x_total', 'x');
    c.inc({ a: '1' });
    assert.throws(() => c.inc({ b: '1' }));
    assert.throws(() => m.gauge('x_total', 'x'), /is a counter/);
  });

  it('adds the process metrics when asked', async () => {
    assert.match(await createMetrics({ processMetrics: true }).render(), /^process_cpu_user_seconds_total/m);
  });
});
