// The exporter's built-in dashboard. Plain browser JavaScript, no build step: it polls the
// exporter's JSON endpoints and draws with uPlot (served locally from the npm package).
(() => {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token');
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const refreshMs = Math.max(500, Number(hash.get('refresh')) || 2000);
  const WINDOW_POINTS = 360;

  const $ = (id) => document.getElementById(id);
  const fmt = (n, digits = 0) =>
    n === null || n === undefined || Number.isNaN(n)
      ? '–'
      : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const ms = (seconds) => (seconds === null || seconds === undefined ? null : seconds * 1000);
  /** Milliseconds with enough digits to show sub-millisecond figures. */
  const fmtMs = (seconds) => {
    const v = ms(seconds);
    return v === null ? '–' : `${fmt(v, v < 1 ? 3 : v < 100 ? 1 : 0)} ms`;
  };
  const cls = (el, state) => {
    el.classList.remove('s-ok', 's-warn', 's-bad', 's-none');
    el.classList.add(`s-${state}`);
  };
  const levelOf = (value, warn, bad) => (value === null ? 'none' : value >= bad ? 'bad' : value >= warn ? 'warn' : 'ok');

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.floor(seconds % 60);
    if (d) return `${d} d ${h} h`;
    if (h) return `${h} h ${m} min`;
    if (m) return `${m} min ${s} s`;
    return `${s} s`;
  }

  async function get(path) {
    const res = await fetch(path, { headers, cache: 'no-store' });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  // Charts: one uPlot per panel, fed from the history points.
  const points = [];
  const charts = [];
  const palette = ['#58a6ff', '#f85149', '#3fb950', '#d29922', '#bc8cff'];

  function chart(id, series, { yMax, small } = {}) {
    const el = $(id);
    const opts = {
      width: Math.max(200, el.clientWidth),
      height: small ? 140 : 200,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: yMax ? { range: [0, yMax] } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: '#8b98a5', grid: { stroke: '#27303b' } },
        { stroke: '#8b98a5', grid: { stroke: '#27303b' }, size: 50 },
      ],
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.color ?? palette[i], width: 1.5, spanGaps: false }))],
    };
    const plot = new uPlot(opts, [[], ...series.map(() => [])], el);
    charts.push({ plot, el, pick: series.map((s) => s.pick) });
  }

  // Read-only handle for debugging in the browser console (and for the end-to-end test).
  window.dashboard = {
    points,
    series: () => charts.map((c) => ({ id: c.el.id, values: c.pick.map((pick) => points.map(pick)) })),
  };

  function redraw() {
    const xs = points.map((p) => p.t / 1000);
    for (const c of charts) c.plot.setData([xs, ...c.pick.map((pick) => points.map(pick))]);
  }

  window.addEventListener('resize', () => {
    for (const c of charts) c.plot.setSize({ width: Math.max(200, c.el.clientWidth), height: c.plot.height });
  });

  chart('chart-volume', [
    { label: 'requests/s', pick: (p) => p.rps },
    { label: '5xx/s', pick: (p) => p.errors_per_s },
  ]);
  chart('chart-latency', [
    { label: 'P50', pick: (p) => p.p50_ms },
    { label: 'P90', pick: (p) => p.p90_ms, color: '#bc8cff' },
    { label: 'P95', pick: (p) => p.p95_ms, color: '#d29922' },
    { label: 'P99', pick: (p) => p.p99_ms, color: '#f85149' },
  ]);
  chart(
    'chart-concurrency',
    [
      { label: 'PDF %', pick: (p) => p.pdf_utilization_percent },
      { label: 'batch %', pick: (p) => p.batch_utilization_percent, color: '#3fb950' },
    ],
    { yMax: 100, small: true },
  );
  chart(
    'chart-pools',
    [
      { label: 'HTTP active', pick: (p) => p.http_active },
      { label: 'HTTP idle', pick: (p) => p.http_idle, color: '#3fb950' },
      { label: 'Redis clients', pick: (p) => p.redis_clients, color: '#d29922' },
    ],
    { small: true },
  );
  chart('chart-upstream', [{ label: 'upstream P95 ms', pick: (p) => p.upstream_p95_ms }], { small: true });
  chart(
    'chart-cache',
    [{ label: 'hit %', pick: (p) => (p.cache_hit_ratio === null ? null : p.cache_hit_ratio * 100), color: '#3fb950' }],
    {
      yMax: 100,
      small: true,
    },
  );
  chart(
    'chart-pipeline',
    [
      { label: 'events/s', pick: (p) => p.events_per_s },
      { label: 'dropped/s', pick: (p) => p.dropped_per_s, color: '#f85149' },
      { label: 'rejected/s', pick: (p) => p.rejected_per_s, color: '#d29922' },
    ],
    { small: true },
  );
  chart('chart-health', [{ label: 'score', pick: (p) => p.health_score, color: '#3fb950' }], { yMax: 100, small: true });

  // Tiles and tables.
  function renderHealth(h) {
    const v = $('health-value');
    v.textContent = `${fmt(h.overall_score)} / 100`;
    const state = { healthy: 'ok', degraded: 'warn', unhealthy: 'bad', down: 'bad' }[h.status] ?? 'none';
    cls(v, state);
    $('health-status').textContent = `${h.status} · window ${fmt(h.window_seconds)} s`;
    const rows = Object.entries(h.factors).map(([name, f]) => {
      const s = { ok: 'ok', warn: 'warn', critical: 'bad', no_data: 'none' }[f.status];
      return `<tr><td class="s-${s}">${name}</td><td class="s-${s}">−${fmt(f.penalty, f.penalty % 1 ? 1 : 0)}</td><td class="detail">${escapeHtml(f.detail)}</td></tr>`;
    });
    $('factors-body').innerHTML = rows.join('');
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  }

  function renderLive(live) {
    const perf = live.performance;
    const last = points.at(-1);
    $('rps-value').textContent = last ? `${fmt(last.rps, 1)} req/s` : '0 req/s';
    const errEl = $('error-value');
    const rate = last ? last.error_rate_percent : 0;
    errEl.textContent = `${fmt(rate, 2)} %`;
    cls(errEl, levelOf(rate, 1, 5));
    $('error-sub').textContent = `5xx share · 4xx+5xx last min ${fmt(perf.overall_error_rate_percent, 1)} %`;
    const p95 = last?.p95_ms ?? null;
    const p95El = $('p95-value');
    p95El.textContent = p95 === null ? 'no traffic' : fmtMs(p95 / 1000);
    cls(p95El, p95 === null ? 'none' : levelOf(p95, 1000, 3000));
    $('uptime-value').textContent = duration(live.system.downloader_uptime_seconds);
    $('uptime-sub').textContent =
      live.system.cpu_percent === null
        ? 'downloader process'
        : `CPU ${fmt(live.system.cpu_percent, 1)} % · RSS ${fmt(live.system.resident_memory_bytes / 2 ** 20)} MiB · loop lag ${fmt(ms(live.system.event_loop_lag_seconds), 1)} ms`;

    const { pdf, batch } = live.concurrency;
    const known = pdf.limit !== null || batch.limit !== null;
    $('active-value').textContent = known ? `${fmt((pdf.active ?? 0) + (batch.active ?? 0))} busy` : 'n/a';
    $('active-sub').textContent = known
      ? `PDF ${fmt(pdf.active)}/${fmt(pdf.limit)} · batch ${fmt(batch.active)}/${fmt(batch.limit)} · queued ${fmt((pdf.queued ?? 0) + (batch.queued ?? 0))}`
      : 'the downloader reports no pools';
    $('concurrency-meters').innerHTML = [
      ['PDF', pdf],
      ['batch', batch],
    ]
      .map(([name, p]) => {
        const u = p.utilization_percent;
        const level = levelOf(u, 80, 95);
        const width = u === null ? 0 : Math.min(100, u);
        const text = u === null ? 'not reported' : `${fmt(u, 1)} % (${fmt(p.active)}/${fmt(p.limit)})`;
        return `<div class="row"><span>${name}</span><div class="bar ${level}"><span style="width:${width}%"></span></div><span class="num">${text}</span></div>`;
      })
      .join('');

    const r = live.connections.redis;
    const redisEl = $('redis-value');
    redisEl.textContent = r.up === null ? 'n/a' : r.up ? 'UP' : 'DOWN';
    cls(redisEl, r.up === null ? 'none' : r.up ? 'ok' : 'bad');
    $('redis-sub').textContent =
      r.up === null
        ? 'no REDIS_URL'
        : `${fmt(r.connected_clients)} clients · ping ${fmt(r.ping_ms, 2)} ms · ${fmt((r.used_memory_bytes ?? 0) / 2 ** 20, 1)} MiB`;

    const hc = live.connections.http_client;
    const httpEl = $('http-value');
    httpEl.textContent = hc.healthy === null ? 'n/a' : hc.healthy ? 'HEALTHY' : 'UNHEALTHY';
    cls(httpEl, hc.healthy === null ? 'none' : hc.healthy ? 'ok' : 'bad');
    $('http-sub').textContent =
      hc.healthy === null
        ? 'no upstream client yet'
        : `${fmt(hc.active)} active · ${fmt(hc.idle)} idle · ${fmt(hc.pending)} pending`;

    $('pools-kv').innerHTML = [
      [
        'HTTP client active / idle / pending',
        hc.active === null ? 'not reported' : `${fmt(hc.active)} / ${fmt(hc.idle)} / ${fmt(hc.pending)}`,
      ],
      ['Redis clients', r.connected_clients === null ? (r.up === null ? 'not configured' : '–') : fmt(r.connected_clients)],
    ]
      .map(([k, v]) => `<span class="muted">${k}</span><span class="num">${v}</span>`)
      .join('');

    const ratio = [...points].reverse().find((p) => p.cache_hit_ratio !== null)?.cache_hit_ratio ?? null;
    const cacheEl = $('cache-value');
    cacheEl.textContent = ratio === null ? 'no lookups' : `${fmt(ratio * 100, 1)} %`;
    cls(cacheEl, ratio === null ? 'none' : ratio >= 0.6 ? 'ok' : 'warn');

    const ex = live.exporter;
    const pipeEl = $('pipeline-value');
    pipeEl.textContent = `${fmt(last?.events_per_s ?? 0, 1)} ev/s`;
    cls(pipeEl, ex.events_dropped > 0 || ex.events_rejected > 0 ? 'warn' : 'ok');
    $('pipeline-sub').textContent =
      `${fmt(ex.events_received)} received · ${fmt(ex.events_rejected)} rejected · ${fmt(ex.events_dropped)} dropped · last ${ex.last_event_age_seconds === null ? 'never' : `${fmt(ex.last_event_age_seconds, 1)} s ago`}`;

    const rows = Object.entries(perf.endpoints)
      .sort((a, b) => b[1].request_count - a[1].request_count)
      .map(([key, e]) => {
        const err = levelOf(e.error_rate_percent, 1, 5);
        return `<tr><td>${escapeHtml(key.replace('_', ' '))}</td><td>${fmt(e.request_count)}</td><td>${fmt(e.requests_per_second, 2)}</td><td class="s-${err}">${fmt(e.error_rate_percent, 1)} %</td><td>${fmtMs(e.avg_response_time)}</td><td>${fmtMs(e.p50_response_time)}</td><td>${fmtMs(e.p95_response_time)}</td><td>${fmtMs(e.p99_response_time)}</td></tr>`;
      });
    $('endpoints-body').innerHTML = rows.length
      ? rows.join('')
      : '<tr><td colspan="8" class="muted">no requests in the last minute</td></tr>';
  }

  function renderStatusCodes() {
    const since = Date.now() - 5 * 60_000;
    const totals = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    for (const p of points) if (p.t >= since) for (const k of Object.keys(totals)) totals[k] += p.status[k];
    const all = Object.values(totals).reduce((a, b) => a + b, 0);
    const level = { '2xx': 'ok', '3xx': '', '4xx': 'warn', '5xx': 'bad' };
    $('status-bars').innerHTML = Object.entries(totals)
      .map(([k, n]) => {
        const share = all ? (100 * n) / all : 0;
        return `<div class="row"><span>${k}</span><div class="bar ${level[k]}"><span style="width:${share}%"></span></div><span class="num">${fmt(n)} (${fmt(share, 1)} %)</span></div>`;
      })
      .join('');
  }

  async function tick() {
    const conn = $('conn');
    try {
      const since = points.at(-1)?.t ?? 0;
      const [history, live, health] = await Promise.all([
        get(`/metrics/live/history?since=${since}`),
        get('/metrics/live'),
        get('/metrics/health-score'),
      ]);
      points.push(...history.points);
      if (points.length > WINDOW_POINTS) points.splice(0, points.length - WINDOW_POINTS);
      renderHealth(health);
      renderLive(live);
      renderStatusCodes();
      redraw();
      conn.textContent = `live · updated ${new Date(live.timestamp).toLocaleTimeString()}`;
      conn.className = 'conn ok';
    } catch (err) {
      conn.textContent = `exporter unreachable: ${err.message}`;
      conn.className = 'conn bad';
    } finally {
      setTimeout(tick, refreshMs);
    }
  }
  tick();
})();
