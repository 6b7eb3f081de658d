import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, requireBinary } from '@dl/testkit';
import { PodMonitor, Prometheus, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { dashboardJson, prometheusRuleYaml } from '../../scripts/gen-monitoring.ts';
import { NODE_FLAGS, SERVICE_ENV } from '../../scripts/nodeFlags.mjs';

const file = (p: string) => readFileSync(join(repoRoot, p), 'utf8');
function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
const hasPromtool = requireBinary('promtool');
const hasAmtool = requireBinary('amtool');
const hasCompose = requireBinary('docker-compose');

describe.skipIf(!hasPromtool)('Prometheus configuration and rules (promtool)', () => {
  it('promtool check config passes, rule files included', () => {
    const r = run('promtool', ['check', 'config', 'monitoring/prometheus/prometheus.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('promtool check rules passes on every rules file', () => {
    const r = run('promtool', ['check', 'rules', 'monitoring/prometheus/rules/downloader.rules.yml']);
    expect(r.code, r.out).toBe(0);
  });

  const testFiles = [
    'monitoring/prometheus/tests/downloader.test.yml',
    'monitoring/prometheus/tests/downloader-slow-burn.test.yml',
  ];

  it('promtool test rules passes, with a firing and a quiet case for every alert', () => {
    const files = testFiles;
    const r = run('promtool', ['test', 'rules', ...files]);
    expect(r.code, r.out).toBe(0);
    const rules = parse(file('monitoring/prometheus/rules/downloader.rules.yml')) as {
      groups: { rules: { alert?: string }[] }[];
    };
    const alerts = rules.groups.flatMap((g) => g.rules.map((x) => x.alert).filter((a): a is string => Boolean(a)));
    type TestFile = { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = files.flatMap((f) => (parse(file(f)) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []));
    for (const alert of alerts) {
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
        `${alert} never fires in a test`,
      ).toBe(true);
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0),
        `${alert} has no quiet case`,
      ).toBe(true);
    }
    expect(alerts.length).toBeGreaterThanOrEqual(14);
  });

  it('every alert fires and stays quiet just the same with Prometheus 3\'s bucket spelling (le="1.0")', () => {
    // Prometheus 3 writes an integer bucket bound as le="1.0" where Prometheus 2 wrote le="1". The same
    // cases, each integer bound respelled, must give the same verdicts.
    const dir = mkdtempSync(join(tmpdir(), 'promtool-le-'));
    try {
      const respelled = testFiles.map((f) => {
        const out = join(dir, f.split('/').pop() as string);
        const text = file(f)
          .replace(/le="(\d+)"/g, 'le="$1.0"')
          .replace('../rules/downloader.rules.yml', join(repoRoot, 'monitoring/prometheus/rules/downloader.rules.yml'));
        expect(text).toContain('le="1.0"');
        writeFileSync(out, text);
        return out;
      });
      const r = run('promtool', ['test', 'rules', ...respelled]);
      expect(r.code, r.out).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('every alert carries severity, summary, description and a runbook section that exists', () => {
    const rules = parse(file('monitoring/prometheus/rules/downloader.rules.yml')) as {
      groups: { rules: { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
    };
    const readme = file('monitoring/README.md');
    for (const r of rules.groups.flatMap((g) => g.rules).filter((x) => x.alert)) {
      expect(['critical', 'warning']).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
      expect(r.annotations?.runbook_url).toBe(`{{ $externalLabels.runbook_base }}#${r.alert?.toLowerCase()}`);
      expect(readme, `runbook section for ${r.alert}`).toContain(`### ${r.alert}`);
    }
  });
});

describe.skipIf(!hasAmtool)('Alertmanager configuration', () => {
  it('amtool check-config passes', () => {
    const r = run('amtool', ['check-config', 'monitoring/alertmanager/alertmanager.yml']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(file('monitoring/grafana/dashboards/downloader.json'));

  it('is the JSON generated from the @grafana/schema-typed source (npm run gen:monitoring)', () => {
    expect(file('monitoring/grafana/dashboards/downloader.json')).toBe(dashboardJson());
  });

  it("has the seed's 14 panels plus SLO burn rate, cache, upstream and pipeline, on a stable uid", () => {
    const titles = dashboard.panels.map((p: { title: string }) => p.title);
    for (const t of [
      'System Health Score',
      'Request Rate',
      'Error Rate',
      'Response Time P95',
      'Request Volume Over Time',
      'Response Time Distribution',
      'Concurrency Utilization',
      'Connection Pool Status',
      'Status Code Distribution',
      'Endpoint Performance',
      'System Uptime',
      'Active Work',
      'Redis Status',
      'HTTP Client Status',
      'SLO Burn Rate',
      'Cache Hit Ratio',
      'Upstream Latency P95',
      'Event Pipeline Health',
    ]) {
      expect(titles).toContain(t);
    }
    expect(dashboard.uid).toBe('downloader-overview');
    expect(new Set(dashboard.panels.map((p: { id: number }) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('takes its datasource from a variable (never ${DS_PROMETHEUS}) and has an endpoint variable', () => {
    const text = file('monitoring/grafana/dashboards/downloader.json');
    expect(text).not.toContain('DS_PROMETHEUS');
    expect(dashboard.__inputs).toBeUndefined();
    const vars = dashboard.templating.list.map((v: { name: string; type: string }) => `${v.name}:${v.type}`);
    expect(vars).toEqual(['datasource:datasource', 'exporter_url:textbox', 'instance:query', 'endpoint:query']);
    for (const p of dashboard.panels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets) expect(t.datasource.uid).toBe('${datasource}');
    }
  });

  it('annotates alerts, deploys and restarts; links the runbooks and the live page; shows exemplars on latency', () => {
    const annotations = dashboard.annotations.list;
    expect(annotations[0]).toMatchObject({ builtIn: 1, type: 'dashboard', enable: true });
    const byName = Object.fromEntries(annotations.map((a: { name: string }) => [a.name, a]));
    expect(byName.Deploys.target.expr).toContain('downloader_build_info');
    expect(byName.Restarts.target.expr).toContain('downloader_process_start_time_seconds');
    const links = dashboard.links.map((l: { title: string; url: string }) => l.url);
    expect(links).toContain('${exporter_url}/dashboard');
    expect(
      links.some((u: string) =>
        u.startsWith(parse(file('monitoring/kubernetes/prometheus.yaml')).spec.externalLabels.runbook_base),
      ),
    ).toBe(true);
    const latency = dashboard.panels.flatMap((p: { type: string; targets: { expr: string; exemplar?: boolean }[] }) =>
      p.type === 'timeseries' ? p.targets.filter((t) => t.expr.includes('downloader_response_time_seconds_bucket')) : [],
    );
    expect(latency.length).toBeGreaterThan(0);
    for (const t of latency) expect(t.exemplar).toBe(true);
  });

  it('provisions the datasource and the dashboard folder', () => {
    const ds = parse(file('monitoring/grafana/provisioning/datasources/prometheus.yml'));
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    const dp = parse(file('monitoring/grafana/provisioning/dashboards/dashboards.yml'));
    expect(dp.providers[0]).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
  });
});

describe('compose and Dockerfiles', () => {
  it.skipIf(!hasCompose)('docker-compose config -q validates compose.yaml (offline)', () => {
    const r = run('docker-compose', ['-f', 'compose.yaml', 'config', '-q'], { GRAFANA_ADMIN_PASSWORD: 'test-only' });
    expect(r.code, r.out).toBe(0);
  });

  it('keeps the Grafana admin password out of the file', () => {
    const r = spawnSync('docker-compose', ['-f', 'compose.yaml', 'config', '-q'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, GRAFANA_ADMIN_PASSWORD: '' },
    });
    if (hasCompose) expect(r.status).not.toBe(0);
    expect(file('compose.yaml')).toContain('${GRAFANA_ADMIN_PASSWORD:?');
  });

  it('passes the compose linter (dclint)', () => {
    const r = run(join(repoRoot, 'node_modules/.bin/dclint'), ['compose.yaml']);
    expect(r.code, r.out).toBe(0);
  });

  it('the Dockerfile passes the linter; both targets are separate stages, run as non-root and have a health check', () => {
    const r = run(join(repoRoot, 'node_modules/.bin/dockerfilelint'), ['Dockerfile']);
    expect(r.code, r.out).toBe(0);
    const stages = file('Dockerfile')
      .split(/^FROM /m)
      .slice(1);
    const named = Object.fromEntries(stages.map((s) => [s.split('\n')[0]?.split(' AS ')[1]?.trim(), s]));
    expect(Object.keys(named)).toEqual(['build', 'exporter', 'downloader']);
    for (const target of ['exporter', 'downloader']) {
      expect(named[target]).toMatch(/^USER node$/m);
      expect(named[target]).toMatch(/^HEALTHCHECK /m);
      expect(named[target]).toContain('COPY --from=build');
    }
    expect(named.downloader).toContain('chromium');
    // Node 24 LTS, an exact release, in every stage (.ci/run tests the same line).
    for (const stage of stages) expect(stage.split('\n')[0]).toMatch(/^node:24\.\d+\.\d+-bookworm-slim AS /);
    const compose = parse(file('compose.yaml'));
    expect(compose.services.downloader.build.target).toBe('downloader');
    expect(compose.services.exporter.build.target).toBe('exporter');
  });

  it('runs the exporter in the downloader network namespace, sharing the socket volume', () => {
    const compose = parse(file('compose.yaml'));
    expect(compose.services.exporter.network_mode).toBe('service:downloader');
    expect(compose.services.exporter.volumes).toContain('events:/run/events');
    expect(compose.services.downloader.volumes).toContain('events:/run/events');
    // A fresh named volume takes the image's directory: the user's own, mode 700 (both images).
    expect(file('Dockerfile').match(/install -d -o node -g node -m 700 \/run\/events/g)).toHaveLength(2);
    // Each image runs with the flags the tests and `npm start` use (scripts/nodeFlags.mjs).
    const stage = (name: string) =>
      file('Dockerfile')
        .split(/^FROM /m)
        .find((s) => s.split('\n')[0]?.endsWith(` AS ${name}`)) ?? '';
    for (const [name, vars] of Object.entries(SERVICE_ENV))
      for (const [k, v] of Object.entries(vars)) expect(stage(name)).toMatch(new RegExp(`^ENV .*\\b${k}=${v}\\b`, 'm'));
    for (const [name, flags] of Object.entries(NODE_FLAGS))
      expect(file('Dockerfile')).toContain(`CMD ${JSON.stringify(['node', ...flags, `${name}.mjs`]).replaceAll(',', ', ')}`);
    expect(compose.services.prometheus.command).toContain('--storage.tsdb.retention.time=30d');
    for (const s of ['redis', 'downloader', 'exporter', 'prometheus', 'grafana', 'alertmanager'])
      expect(compose.services[s]).toBeDefined();
  });
});

describe('Kubernetes manifests', () => {
  const docs = (p: string) => parseAllDocuments(file(`monitoring/kubernetes/${p}`)).map((d) => d.toJSON());

  it('validate against kubernetes-models (Deployment, Service, PodMonitor, PrometheusRule, Prometheus)', () => {
    const [deployment] = docs('deployment.yaml');
    new Deployment(deployment).validate();
    const [redisDeployment, redisService] = docs('redis.yaml');
    new Deployment(redisDeployment).validate();
    new Service(redisService).validate();
    new Namespace(docs('namespace.yaml')[0]).validate();
    new PodDisruptionBudget(docs('pdb.yaml')[0]).validate();
    new NetworkPolicy(docs('networkpolicy.yaml')[0]).validate();
    const [downloaderAccount, prometheusAccount, role, binding] = docs('rbac.yaml');
    new ServiceAccount(downloaderAccount).validate();
    new ServiceAccount(prometheusAccount).validate();
    new Role(role).validate();
    new RoleBinding(binding).validate();
    new Service(docs('service.yaml')[0]).validate();
    new PodMonitor(docs('podmonitor.yaml')[0]).validate();
    new PrometheusRule(docs('prometheusrule.yaml')[0]).validate();
    new Prometheus(docs('prometheus.yaml')[0]).validate();
    expect(docs('prometheus.yaml')[0].spec.retention).toBe('30d');
  });

  it('runs the exporter as a native sidecar sharing an emptyDir socket, with probes and resources', () => {
    const spec = docs('deployment.yaml')[0].spec.template.spec;
    const [sidecar] = spec.initContainers;
    expect(sidecar).toMatchObject({ name: 'exporter', restartPolicy: 'Always' });
    const [app] = spec.containers;
    for (const c of [sidecar, app]) {
      expect(c.volumeMounts).toContainEqual({ name: 'events', mountPath: '/run/events' });
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
      expect(c.resources.requests).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
    }
    expect(spec.volumes).toContainEqual(expect.objectContaining({ name: 'events', emptyDir: expect.any(Object) }));
  });

  it('runs more than one replica only with Redis in the kustomization and REDIS_URL on both containers', () => {
    const deployment = docs('deployment.yaml')[0];
    expect(deployment.spec.replicas).toBeGreaterThan(1);
    const kustomization = parse(file('monitoring/kubernetes/kustomization.yaml'));
    expect(kustomization.resources).toContain('redis.yaml');
    const [redisDeployment, redisService] = docs('redis.yaml');
    expect(redisDeployment.spec.replicas).toBe(1);
    const port = redisService.spec.ports[0].port;
    const spec = deployment.spec.template.spec;
    for (const c of [...spec.initContainers, ...spec.containers]) {
      expect(c.env).toContainEqual({ name: 'REDIS_URL', value: `redis://${redisService.metadata.name}:${port}` });
    }
  });

  it('keeps a replica through voluntary disruptions, spreads them, and drains before it stops', () => {
    const deployment = docs('deployment.yaml')[0];
    const pdb = docs('pdb.yaml')[0];
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: deployment.spec.selector });
    expect(deployment.spec.replicas).toBeGreaterThan(pdb.spec.minAvailable);
    const spec = deployment.spec.template.spec;
    expect(spec.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    // preStop waits, then the downloader drains for SHUTDOWN_GRACE_S, then the sidecar serves one
    // more scrape: all within the grace period.
    const [sidecar] = spec.initContainers;
    const [app] = spec.containers;
    const sleepOf = (c: { lifecycle: { preStop: { exec: { command: string[] } } } }) => {
      const [cmd, seconds] = c.lifecycle.preStop.exec.command;
      expect(cmd).toBe('sleep');
      return Number(seconds);
    };
    const drain = Number(app.env.find((e: { name: string }) => e.name === 'SHUTDOWN_GRACE_S').value);
    const scrape = Number.parseInt(docs('podmonitor.yaml')[0].spec.podMetricsEndpoints[0].interval, 10);
    expect(sleepOf(sidecar)).toBeGreaterThan(scrape);
    expect(sleepOf(app) + drain + sleepOf(sidecar)).toBeLessThan(spec.terminationGracePeriodSeconds);
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it('refuses egress to every private range at the network too, and names the service account Prometheus runs as', () => {
    const policy = docs('networkpolicy.yaml')[0];
    expect(policy.spec.policyTypes).toEqual(['Egress']);
    const [internet] = policy.spec.egress;
    const except = internet.to.flatMap((t: { ipBlock: { except: string[] } }) => t.ipBlock.except);
    for (const cidr of [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '169.254.0.0/16',
      '100.64.0.0/10',
      'fc00::/7',
      'fe80::/10',
    ])
      expect(except).toContain(cidr);
    const accounts = docs('rbac.yaml')
      .filter((d) => d.kind === 'ServiceAccount')
      .map((d) => d.metadata.name);
    expect(accounts).toContain(docs('prometheus.yaml')[0].spec.serviceAccountName);
    expect(accounts).toContain(docs('deployment.yaml')[0].spec.template.spec.serviceAccountName);
    const binding = docs('rbac.yaml').find((d) => d.kind === 'RoleBinding');
    expect(binding.subjects[0].namespace).toBe(parse(file('monitoring/kubernetes/kustomization.yaml')).namespace);
  });

  it('pins every image: no latest, no bare name', () => {
    const images = ['deployment.yaml', 'redis.yaml'].flatMap((f) =>
      docs(f).flatMap((d) =>
        d.kind === 'Deployment'
          ? [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map(
              (c: { image: string }) => c.image,
            )
          : [],
      ),
    );
    for (const image of images) expect(image).toMatch(/:[0-9][\w.-]*$/);
    const kustomization = parse(file('monitoring/kubernetes/kustomization.yaml'));
    for (const i of kustomization.images) expect(i.newTag).not.toBe('latest');
    const compose = parse(file('compose.yaml'));
    for (const [name, service] of Object.entries(compose.services as Record<string, { image?: string }>))
      if (service.image) expect(service.image, name).toMatch(/:v?[0-9][\w.-]*$/);
  });

  it('puts the socket in a directory below the emptyDir (which is open to the pod), as one user', () => {
    const spec = docs('deployment.yaml')[0].spec.template.spec;
    const socketOf = (c: { env: { name: string; value?: string }[] }) => c.env.find((e) => e.name === 'EVENTS_SOCKET')?.value;
    const [sidecar] = spec.initContainers;
    const [app] = spec.containers;
    expect(socketOf(sidecar)).toBe('/run/events/private/events.sock');
    expect(socketOf(app)).toBe(socketOf(sidecar));
    // The directory must belong to the user both run as: one pod-level user, overridden by neither.
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
    for (const c of [sidecar, app]) expect(c.securityContext.runAsUser).toBeUndefined();
  });

  it('has the PrometheusRule generated from the rules file: one source of truth', () => {
    expect(file('monitoring/kubernetes/prometheusrule.yaml')).toBe(prometheusRuleYaml());
    const rules = parse(file('monitoring/prometheus/rules/downloader.rules.yml'));
    expect(docs('prometheusrule.yaml')[0].spec.groups).toEqual(rules.groups);
  });

  it('renders with kubectl kustomize where kubectl is available', () => {
    const has = spawnSync('sh', ['-c', 'command -v kubectl']).status === 0;
    if (!has) {
      console.warn('kubectl not installed: kustomize rendering not checked here (kubernetes-models validation above still ran)');
      return;
    }
    const r = run('kubectl', ['kustomize', 'monitoring/kubernetes']);
    expect(r.code, r.out).toBe(0);
    const kinds = parseAllDocuments(r.out)
      .map((d) => d.toJSON().kind)
      .sort();
    expect(kinds).toEqual([
      'Deployment',
      'Deployment',
      'Namespace',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PodMonitor',
      'Prometheus',
      'PrometheusRule',
      'Role',
      'RoleBinding',
      'Service',
      'Service',
      'ServiceAccount',
      'ServiceAccount',
    ]);
  });
});
