import { describe, expect, it } from 'vitest';
import { CollectedFamily, CounterFamily, escapeLabel, formatValue, HistogramFamily, singleValue } from './families.ts';
import { FamilySet } from './familySet.ts';

describe('metric families', () => {
  it('counters render the text format, and OpenMetrics without _total in the family name', () => {
    const c = new CounterFamily('x_events_total', 'Events.', ['kind']);
    c.get(['a']).value += 2;
    c.get(['b"\\\n']).value++;
    expect(c.render('prometheus')).toBe(
      '# HELP x_events_total Events.\n# TYPE x_events_total counter\nx_events_total{kind="a"} 2\nx_events_total{kind="b\\"\\\\\\n"} 1\n',
    );
    expect(c.render('openmetrics').split('\n').slice(0, 2)).toEqual(['# HELP x_events Events.', '# TYPE x_events counter']);
    expect(() => new CounterFamily('x_events', 'h')).toThrow(/must end in _total/);
  });

  it('histograms render cumulative buckets with le as the last label, +Inf, _sum and _count', () => {
    const h = new HistogramFamily('x_seconds', 'Durations.', ['route'], [0.1, 1]);
    const s = h.get(['/a']);
    for (const v of [0.05, 0.1, 0.5, 7]) h.observe(s, v);
    expect(h.render('prometheus')).toBe(
      [
        '# HELP x_seconds Durations.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{route="/a",le="0.1"} 2',
        'x_seconds_bucket{route="/a",le="1"} 3',
        'x_seconds_bucket{route="/a",le="+Inf"} 4',
        'x_seconds_sum{route="/a"} 7.65',
        'x_seconds_count{route="/a"} 4',
        '',
      ].join('\n'),
    );
    h.remove(s);
    expect(h.render('prometheus')).not.toContain('x_seconds_bucket');
  });

  it('collected families read their values at render time; an undefined single value has no sample', () => {
    let v: number | undefined;
    const g = singleValue('x_gauge', 'A gauge.', () => v);
    expect(g.render('prometheus')).toBe('# HELP x_gauge A gauge.\n# TYPE x_gauge gauge\n');
    v = Number.POSITIVE_INFINITY;
    expect(g.render('prometheus')).toContain('x_gauge +Inf\n');
    const labelled = new CollectedFamily('x_up', 'Up.', ['component'], () => [[['redis'], 1]]);
    expect(labelled.render('prometheus')).toContain('x_up{component="redis"} 1\n');
    expect(() => singleValue('x_count', 'c', () => 1, 'counter')).toThrow(/must end in _total/);
  });

  it.each([
    [Number.NaN, 'NaN'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
    [0.25, '0.25'],
  ])('formats %d as %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it('escapes backslash, quote and newline in label values', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});

describe('FamilySet', () => {
  const gauge = (name: string, labels: string[] = []) => new CollectedFamily(name, 'h', labels, () => []);

  it('renders families in registration order', () => {
    const set = new FamilySet().add(gauge('b_one'), gauge('a_two'));
    expect(set.render('prometheus').match(/# TYPE \S+/g)).toEqual(['# TYPE b_one', '# TYPE a_two']);
    expect(set.has('a_two')).toBe(true);
  });

  it.each([
    ['a second family of the same name', [gauge('x_a'), gauge('x_a')], /registered twice/],
    ['an invalid metric name', [gauge('x-a')], /invalid metric name/],
    ['a name starting with a digit', [gauge('1x')], /invalid metric name/],
    ['a reserved label', [gauge('x_a', ['le'])], /reserved label name "le"/],
    ['a label starting with __', [gauge('x_a', ['__name'])], /reserved label name/],
    ['an invalid label', [gauge('x_a', ['a-b'])], /invalid or reserved label name "a-b"/],
    ['a repeated label', [gauge('x_a', ['a', 'a'])], /repeated/],
  ])('refuses %s', (_what, families, message) => {
    expect(() => new FamilySet().add(...families)).toThrow(message);
  });
});
