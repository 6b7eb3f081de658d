// The Grafana dashboard, written against @grafana/schema's types so `npm run typecheck` checks it.
// `npm run gen:monitoring` writes dashboards/downloader.json from it; a test proves the JSON is current.
import type { AnnotationQuery, Dashboard, DataQuery, FieldConfigSource, Panel, ThresholdsConfig } from '@grafana/schema';

const DS = { type: 'prometheus', uid: '${datasource}' };
const EP = 'endpoint=~"$endpoint"';
const RI = '$__rate_interval';

type Target = DataQuery & {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  exemplar?: boolean;
};

interface PanelSpec {
  title: string;
  type: string;
  targets: Omit<Target, 'refId'>[];
  grid: [x: number, y: number, w: number, h: number];
  unit?: string;
  description?: string;
  thresholds?: [color: string, from: number | null][];
  options?: Record<string, unknown>;
  fieldConfig?: Partial<FieldConfigSource>;
  transformations?: Panel['transformations'];
}

const q = (expr: string, legendFormat = ''): Omit<Target, 'refId'> => ({ expr, legendFormat });
const instant = (expr: string, legendFormat = '', format?: string): Omit<Target, 'refId'> => ({
  expr,
  legendFormat,
  instant: true,
  range: false,
  ...(format ? { format } : {}),
});
const steps = (t: [string, number | null][]): ThresholdsConfig => ({
  mode: 'absolute' as ThresholdsConfig['mode'],
  steps: t.map(([color, value]) => ({ color, value })),
});

/**
 * Every metric a panel reads is narrowed to the pods chosen in the `instance` variable. Recording
 * rules (`downloader:...`) are fleet-wide sums and carry no instance.
 */
export function scoped(expr: string): string {
  return expr.replace(/\b((?:downloader|exporter)_[a-z0-9_]+)(\{?)/g, (_m, name: string, brace: string) =>
    brace ? `${name}{instance=~"$instance",` : `${name}{instance=~"$instance"}`,
  );
}

/** An expression over a histogram's native form (its name without _bucket, _sum or _count). */
export const nativeOnly = (expr: string) => /downloader_(response_time|upstream_duration)_seconds\{/.test(expr);

let nextId = 1;
/**
 * An annotation from a Prometheus query: one marker per series when it starts. The query is written
 * both where Grafana 10+ reads it (`target`) and where earlier versions did (`expr`).
 */
function promAnnotation(name: string, iconColor: string, expr: string, titleFormat: string): AnnotationQuery {
  return {
    name,
    datasource: DS,
    enable: true,
    iconColor,
    target: { refId: name, expr } as DataQuery as AnnotationQuery['target'],
    ...({ expr, titleFormat, step: '1m', useValueForTime: false } as object),
  };
}

/** The request-duration histogram, whose buckets carry trace exemplars in the OpenMetrics exposition. */
const LATENCY = /downloader_response_time_seconds_bucket/;

function panel(s: PanelSpec): Panel {
  const [x, y, w, h] = s.grid;
  const defaults: FieldConfigSource['defaults'] = { ...(s.unit ? { unit: s.unit } : {}), ...(s.fieldConfig?.defaults ?? {}) };
  if (s.thresholds) {
    defaults.thresholds = steps(s.thresholds);
    defaults.color = { mode: 'thresholds' } as FieldConfigSource['defaults']['color'];
  }
  return {
    id: nextId++,
    type: s.type,
    title: s.title,
    description: s.description ?? '',
    datasource: DS,
    gridPos: { x, y, w, h },
    fieldConfig: { defaults, overrides: s.fieldConfig?.overrides ?? [] },
    options: s.options ?? {},
    targets: s.targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      // Latency over time shows its exemplars: a dot per slow bucket that opens the request's trace.
      ...(s.type === 'timeseries' && LATENCY.test(t.expr) ? { exemplar: true } : {}),
      ...t,
      expr: scoped(t.expr),
    })),
    ...(s.transformations ? { transformations: s.transformations } : {}),
  };
}

const stat = {
  reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
  colorMode: 'value',
  graphMode: 'area',
  textMode: 'auto',
};
const flatStat = { ...stat, graphMode: 'none' };
const bars = (orientation: 'vertical' | 'horizontal') => ({
  orientation,
  displayMode: 'gradient',
  reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
});
/** The health score's colours: healthy from 80, degraded from 60. */
const HEALTH_STEPS: [string, number | null][] = [
  ['red', null],
  ['orange', 60],
  ['green', 80],
];
const series = {
  legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
  tooltip: { mode: 'multi', sort: 'desc' },
};
const upDown = {
  defaults: {
    mappings: [{ type: 'value', options: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'UP', color: 'green' } } }],
    color: { mode: 'thresholds' },
    thresholds: steps([
      ['red', null],
      ['green', 1],
    ]),
  },
} as Partial<FieldConfigSource>;
const quantile = (p: number, by = 'le', selector = EP, range = RI) =>
  `histogram_quantile(${p}, sum by (${by}) (rate(downloader_response_time_seconds_bucket{${selector}}[${range}])))`;

const panels: Panel[] = [
  // The seed's 14 panels, then SLO burn rate, cache hit ratio, upstream latency, pipeline health.
  panel({
    title: 'System Health Score',
    type: 'stat',
    targets: [q('min(downloader_health_score)')],
    grid: [0, 0, 4, 5],
    unit: 'none',
    description:
      "The worst pod's score, 0-100; healthy >= 80, degraded >= 60. Health by Pod shows each; /metrics/health-score explains each factor.",
    thresholds: HEALTH_STEPS,
    options: stat,
  }),
  panel({
    title: 'Request Rate',
    type: 'stat',
    targets: [q(`sum(rate(downloader_requests_total{${EP}}[${RI}]))`)],
    grid: [4, 0, 4, 5],
    unit: 'reqps',
    options: stat,
  }),
  panel({
    title: 'Error Rate',
    type: 'stat',
    targets: [q(`100 * sum(rate(downloader_errors_total{${EP}}[${RI}])) / sum(rate(downloader_requests_total{${EP}}[${RI}]))`)],
    grid: [8, 0, 4, 5],
    unit: 'percent',
    description: "Responses with status >= 400 (the seed's errors_total).",
    thresholds: [
      ['green', null],
      ['orange', 1],
      ['red', 5],
    ],
    options: stat,
  }),
  panel({
    title: 'Response Time P95',
    type: 'stat',
    targets: [q(quantile(0.95))],
    grid: [12, 0, 4, 5],
    unit: 's',
    thresholds: [
      ['green', null],
      ['orange', 1],
      ['red', 3],
    ],
    options: stat,
  }),
  panel({
    title: 'System Uptime',
    type: 'stat',
    targets: [q('max(downloader_uptime_seconds)')],
    grid: [16, 0, 4, 5],
    unit: 's',
    options: flatStat,
  }),
  panel({
    title: 'Active Work',
    type: 'stat',
    targets: [q('sum(downloader_concurrency_active) + sum(downloader_http_client_connections{state="active"})')],
    grid: [20, 0, 4, 5],
    unit: 'none',
    description: 'Busy PDF and batch slots plus active upstream connections.',
    options: stat,
  }),
  panel({
    title: 'Request Volume Over Time',
    type: 'timeseries',
    targets: [
      q(`sum(rate(downloader_requests_total{${EP}}[${RI}]))`, 'requests/s'),
      q(`sum(rate(downloader_errors_total{${EP}}[${RI}]))`, 'errors/s (>= 400)'),
      q(`sum(rate(downloader_requests_total{${EP},status=~"5.."}[${RI}]))`, '5xx/s'),
    ],
    grid: [0, 5, 12, 8],
    unit: 'reqps',
    options: series,
  }),
  panel({
    title: 'Response Time Distribution',
    type: 'timeseries',
    targets: [0.5, 0.9, 0.95, 0.99].map((p) => q(quantile(p), `P${Math.round(p * 100)}`)),
    grid: [12, 5, 12, 8],
    unit: 's',
    options: series,
  }),
  panel({
    title: 'Concurrency Utilization',
    type: 'timeseries',
    targets: [q('max by (pool) (downloader_concurrency_utilization_percent)', '{{pool}}')],
    grid: [0, 13, 8, 8],
    unit: 'percent',
    options: series,
    fieldConfig: {
      defaults: {
        min: 0,
        max: 100,
        custom: { thresholdsStyle: { mode: 'line' } },
        thresholds: steps([
          ['green', null],
          ['orange', 80],
          ['red', 95],
        ]),
      },
    },
  }),
  panel({
    title: 'Connection Pool Status',
    type: 'timeseries',
    targets: [
      q('sum by (state) (downloader_http_client_connections)', 'HTTP {{state}}'),
      q('sum(downloader_redis_connected_clients)', 'Redis clients'),
    ],
    grid: [8, 13, 8, 8],
    unit: 'none',
    options: series,
  }),
  panel({
    title: 'Status Code Distribution',
    type: 'barchart',
    targets: [instant(`sum by (status) (increase(downloader_requests_total{${EP}}[$__range]))`, '{{status}}', 'table')],
    grid: [16, 13, 8, 8],
    unit: 'none',
    options: {
      orientation: 'horizontal',
      xField: 'status',
      legend: { showLegend: false, displayMode: 'list', placement: 'bottom' },
    },
  }),
  panel({
    title: 'Endpoint Performance',
    type: 'table',
    targets: [
      instant(`sum by (endpoint, method) (rate(downloader_requests_total{${EP}}[5m]))`, '', 'table'),
      instant(
        `100 * sum by (endpoint, method) (rate(downloader_errors_total{${EP}}[5m])) / sum by (endpoint, method) (rate(downloader_requests_total{${EP}}[5m]))`,
        '',
        'table',
      ),
      instant(quantile(0.95, 'endpoint, method, le', EP, '5m'), '', 'table'),
    ],
    grid: [0, 21, 24, 8],
    description: 'Per endpoint over the last 5 minutes: requests/s, error % (>= 400), P95 seconds.',
    transformations: [
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: { Time: true },
          renameByName: { 'Value #A': 'req/s', 'Value #B': 'errors %', 'Value #C': 'P95 (s)' },
        },
      },
    ],
  }),
  panel({
    title: 'Redis Status',
    type: 'stat',
    targets: [q('min(downloader_redis_up)')],
    grid: [0, 29, 4, 4],
    options: flatStat,
    fieldConfig: upDown,
  }),
  panel({
    title: 'HTTP Client Status',
    type: 'stat',
    targets: [q('min(downloader_component_up{component="http_client"})')],
    grid: [4, 29, 4, 4],
    options: flatStat,
    fieldConfig: upDown,
  }),
  panel({
    title: 'Cache Hit Ratio',
    type: 'stat',
    targets: [
      q(`sum(rate(downloader_cache_lookups_total{result="hit"}[${RI}])) / sum(rate(downloader_cache_lookups_total[${RI}]))`),
    ],
    grid: [8, 29, 4, 4],
    unit: 'percentunit',
    thresholds: [
      ['orange', null],
      ['green', 0.6],
    ],
    options: stat,
  }),
  panel({
    title: 'Upstream Latency P95',
    type: 'timeseries',
    targets: [
      q(`histogram_quantile(0.95, sum by (le) (rate(downloader_upstream_duration_seconds_bucket[${RI}])))`, 'P95'),
      q(`sum by (outcome) (rate(downloader_upstream_requests_total{outcome!="ok"}[${RI}]))`, '{{outcome}}/s'),
    ],
    grid: [12, 29, 12, 8],
    unit: 's',
    options: series,
    fieldConfig: {
      overrides: [
        {
          matcher: { id: 'byRegexp', options: '.*/s' },
          properties: [
            { id: 'unit', value: 'reqps' },
            { id: 'custom.axisPlacement', value: 'right' },
          ],
        },
      ],
    },
  }),
  panel({
    title: 'Health Factor Penalties',
    type: 'bargauge',
    targets: [instant('max by (factor) (downloader_health_factor_penalty)', '{{factor}}')],
    grid: [0, 33, 12, 4],
    unit: 'none',
    options: bars('vertical'),
  }),
  panel({
    title: 'SLO Burn Rate',
    type: 'timeseries',
    targets: [
      q('downloader:sli_errors:ratio_rate5m / 0.001', 'availability 5m'),
      q('downloader:sli_errors:ratio_rate1h / 0.001', 'availability 1h'),
      q('downloader:sli_slow:ratio_rate5m / 0.01', 'latency 5m'),
      q('downloader:sli_slow:ratio_rate1h / 0.01', 'latency 1h'),
    ],
    grid: [0, 37, 12, 8],
    unit: 'none',
    description: 'Error-budget burn rate: 1 spends the 30-day budget in exactly 30 days; the fast-burn page fires at 14.4.',
    options: series,
    fieldConfig: {
      defaults: {
        custom: { thresholdsStyle: { mode: 'line' } },
        thresholds: steps([
          ['green', null],
          ['orange', 6],
          ['red', 14.4],
        ]),
      },
    },
  }),
  panel({
    title: 'Event Pipeline Health',
    type: 'timeseries',
    targets: [
      q(`sum(rate(exporter_events_received_total[${RI}]))`, 'received/s'),
      q(`sum(rate(downloader_telemetry_events_dropped_total[${RI}]))`, 'dropped/s'),
      q(`sum(rate(exporter_events_rejected_total[${RI}]))`, 'rejected/s'),
      q('max(exporter_last_event_age_seconds)', 'last event age (s)'),
    ],
    grid: [12, 37, 12, 8],
    unit: 'none',
    description: 'Events the exporter aggregates, and any it never saw (dropped by the emitter) or could not read (rejected).',
    options: series,
  }),
  panel({
    title: 'Fleet P99: Native vs Classic',
    type: 'timeseries',
    targets: [
      q(`histogram_quantile(0.99, sum(rate(downloader_response_time_seconds{${EP}}[${RI}])))`, 'native (schema 5)'),
      q(quantile(0.99), 'classic buckets'),
    ],
    grid: [0, 53, 12, 8],
    unit: 's',
    description:
      'The p99 of every selected pod merged: from native histograms (about 1 %, needs native histogram scraping) and from the classic buckets (interpolated between bounds).',
    options: series,
  }),
  panel({
    title: 'Errors by Cause',
    type: 'timeseries',
    targets: [q(`sum by (cause) (rate(downloader_errors_total{${EP}}[${RI}]))`, '{{cause}}')],
    grid: [0, 45, 8, 8],
    unit: 'reqps',
    description:
      "Failed requests by whose failure they are: client (the caller's request), target (the site asked for), service (ours; what the availability SLO counts).",
    options: series,
  }),
  panel({
    title: 'Health by Pod',
    type: 'bargauge',
    targets: [instant('min by (instance) (downloader_health_score)', '{{instance}}')],
    grid: [8, 45, 6, 8],
    unit: 'none',
    description: 'Each pod’s score: the fleet is as healthy as its worst pod.',
    thresholds: HEALTH_STEPS,
    options: bars('horizontal'),
  }),
  panel({
    title: 'Factor Penalties by Pod',
    type: 'table',
    targets: [instant('max by (instance, factor) (downloader_health_factor_penalty)', '', 'table')],
    grid: [14, 45, 10, 8],
    unit: 'none',
    description: 'Points each health factor takes off each pod’s score: a row per pod, a column per factor.',
    transformations: [{ id: 'groupingToMatrix', options: { rowField: 'instance', columnField: 'factor', valueField: 'Value' } }],
  }),
];

export const dashboard: Dashboard = {
  uid: 'downloader-overview',
  title: 'Downloader',
  description: 'Downloader service and its sidecar exporter.',
  tags: ['downloader', 'sidecar'],
  timezone: 'browser',
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  version: 1,
  refresh: '10s',
  time: { from: 'now-1h', to: 'now' },
  fiscalYearStartMonth: 0,
  liveNow: false,
  annotations: {
    list: [
      {
        // Grafana's own: annotations made by hand and alert state changes.
        builtIn: 1,
        name: 'Annotations & Alerts',
        type: 'dashboard',
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
      },
      // A version no pod ran ten minutes earlier: a deploy. And any pod that started again.
      promAnnotation(
        'Deploys',
        'purple',
        'count by (version) (downloader_build_info) unless count by (version) (downloader_build_info offset 10m)',
        'deploy {{version}}',
      ),
      promAnnotation('Restarts', 'orange', 'changes(downloader_process_start_time_seconds[2m]) > 0', 'restart {{instance}}'),
    ],
  },
  links: [
    {
      title: 'Runbooks',
      type: 'link',
      // Prometheus's runbook_base (monitoring/kubernetes/prometheus.yaml): where monitoring/README.md is served.
      url: 'https://runbooks.example.com/downloader',
      icon: 'doc',
      targetBlank: true,
      asDropdown: false,
      includeVars: false,
      keepTime: false,
      tags: [],
      tooltip: 'What each alert means and what to do',
    },
    {
      title: 'Live dashboard',
      type: 'link',
      url: '${exporter_url}/dashboard',
      icon: 'dashboard',
      targetBlank: true,
      asDropdown: false,
      includeVars: false,
      keepTime: false,
      tags: [],
      tooltip: "The exporter's own page: every figure of one pod, each second",
    },
  ],
  templating: {
    list: [
      // A variable, never ${DS_PROMETHEUS}: file provisioning does not fill import-time inputs.
      {
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'prometheus',
        hide: 0,
        refresh: 1,
        includeAll: false,
        multi: false,
      },
      {
        // Where the exporter of the pod you want live is reachable (port-forward or ingress).
        name: 'exporter_url',
        label: 'Exporter URL',
        type: 'textbox',
        query: 'http://127.0.0.1:9464',
        current: { text: 'http://127.0.0.1:9464', value: 'http://127.0.0.1:9464' },
        hide: 2,
      },
      {
        name: 'instance',
        label: 'Pod',
        type: 'query',
        datasource: DS,
        query: { query: 'label_values(downloader_health_score, instance)', refId: 'instance' },
        refresh: 2,
        includeAll: true,
        allValue: '.*',
        multi: true,
        current: { selected: true, text: ['All'], value: ['$__all'] },
        hide: 0,
        sort: 1,
      },
      {
        name: 'endpoint',
        label: 'Endpoint',
        type: 'query',
        datasource: DS,
        query: { query: 'label_values(downloader_requests_total, endpoint)', refId: 'endpoint' },
        refresh: 2,
        includeAll: true,
        allValue: '.*',
        multi: true,
        current: { selected: true, text: ['All'], value: ['$__all'] },
        hide: 0,
        sort: 1,
      },
    ],
  },
  panels,
};
