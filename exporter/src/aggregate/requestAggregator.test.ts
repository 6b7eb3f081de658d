import { describe, expect, it } from 'vitest';
import { OVERFLOW_ENDPOINT, RequestAggregator } from './requestAggregator.ts';

const make = (seriesLimit = 100) => new RequestAggregator({ bounds: [0.1, 0.5, 1], seriesLimit });
const T0 = 1_764_000_000_000;

describe('RequestAggregator', () => {
  it('counts requests, errors and histogram per label set', () => {
    const a = make();
    a.record('/x', 'GET', 200, 0.05, T0);
    a.record('/x', 'GET', 200, 0.7, T0);
    a.record('/x', 'GET', 503, 2, T0);
    a.record('/y', 'POST', 404, 0.2, T0);
    expect(a.requests.render('prometheus')).toMatchInlineSnapshot(`
      "# HELP downloader_requests_total Requests served by the downloader; cause: whose failure (none, client, target, service).
      # TYPE downloader_requests_total counter
      downloader_requests_total{endpoint="/x",method="GET",status="200",cause="none"} 2
      downloader_requests_total{endpoint="/x",method="GET",status="503",cause="service"} 1
      downloader_requests_total{endpoint="/y",method="POST",status="404",cause="client"} 1
      "
    `);
    expect(a.errors.render('openmetrics')).toMatchInlineSnapshot(`
      "# HELP downloader_errors Requests answered with status >= 400; cause: the client, the target, or the service itself.
      # TYPE downloader_errors counter
      downloader_errors_total{endpoint="/x",method="GET",status="503",cause="service"} 1
      downloader_errors_total{endpoint="/y",method="POST",status="404",cause="client"} 1
      "
    `);
    expect(a.responseTime.render('prometheus')).toContain(
      [
        'downloader_response_time_seconds_bucket{endpoint="/x",method="GET",le="0.1"} 1',
        'downloader_response_time_seconds_bucket{endpoint="/x",method="GET",le="0.5"} 1',
        'downloader_response_time_seconds_bucket{endpoint="/x",method="GET",le="1"} 2',
        'downloader_response_time_seconds_bucket{endpoint="/x",method="GET",le="+Inf"} 3',
        'downloader_response_time_seconds_sum{endpoint="/x",method="GET"} 2.75',
        'downloader_response_time_seconds_count{endpoint="/x",method="GET"} 3',
      ].join('\n'),
    );
  });

  it('folds series past the cap into __overflow__ and counts each overflowed event', () => {
    const a = make(3);
    for (let i = 0; i < 10; i++) a.record(`/e${i}`, 'GET', 200, 0.01, T0);
    a.record('/e0', 'GET', 200, 0.01, T0); // existing series: not overflow
    expect(a.seriesCount).toBe(4);
    expect(a.overflowed).toBe(7);
    const text = a.requests.render('prometheus');
    expect(text).toContain(`downloader_requests_total{endpoint="${OVERFLOW_ENDPOINT}",method="GET",status="200",cause="none"} 7`);
    expect(text).toContain('downloader_requests_total{endpoint="/e0",method="GET",status="200",cause="none"} 2');
  });

  it('expires series unseen for the TTL, and only those', () => {
    const a = make();
    a.record('/old', 'GET', 200, 0.01, T0);
    a.record('/new', 'GET', 500, 0.01, T0 + 60_000);
    expect(a.sweep(T0 + 120_000, 90_000)).toBe(1);
    expect(a.expired).toBe(1);
    const text = [a.requests, a.errors, a.responseTime].map((f) => f.render('prometheus')).join('');
    expect(text).not.toContain('/old');
    expect(text).toContain('/new');
    a.record('/old', 'GET', 200, 0.01, T0 + 130_000); // comes back from zero
    expect(a.requests.render('prometheus')).toContain(
      'downloader_requests_total{endpoint="/old",method="GET",status="200",cause="none"} 1',
    );
  });

  it('counts interleaved series and statuses exactly, whatever the order of events', () => {
    const a = make();
    const expected = new Map<string, number>();
    let seed = 7;
    const pick = <T>(xs: readonly T[]) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return xs[seed % xs.length] as T;
    };
    for (let i = 0; i < 5_000; i++) {
      // Runs of one kind, then switches, as batches from a real emitter look.
      const [endpoint, method, status] = [pick(['/a', '/b', '/c']), pick(['GET', 'POST'] as const), pick([200, 404, 503])];
      const run = 1 + (i % 4);
      for (let r = 0; r < run; r++) a.record(endpoint, method, status, 0.01, T0);
      const key = `{endpoint="${endpoint}",method="${method}",status="${status}"`;
      expected.set(key, (expected.get(key) ?? 0) + run);
    }
    const text = a.requests.render('prometheus');
    let total = 0;
    for (const [key, n] of expected) {
      expect(text).toContain(`downloader_requests_total${key},cause="${status(key)}"} ${n}\n`);
      total += n;
    }
    expect(total).toBe(12_500);
  });

  it('starts a swept series afresh even when it was the last one counted', () => {
    const a = make();
    a.record('/gone', 'GET', 200, 0.01, T0);
    expect(a.sweep(T0 + 120_000, 90_000)).toBe(1);
    a.record('/gone', 'GET', 200, 0.01, T0 + 130_000);
    expect(a.seriesCount).toBe(1);
    expect(a.requests.render('prometheus')).toContain(
      'downloader_requests_total{endpoint="/gone",method="GET",status="200",cause="none"} 1',
    );
  });
});

const status = (key: string) => ({ '200': 'none', '404': 'client', '503': 'service' })[key.match(/status="(\d+)"/)?.[1] as '200'];
