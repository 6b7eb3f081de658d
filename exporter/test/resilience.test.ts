import { plan, runPlan, SystemUnderTest, sumSamples, waitFor } from '@dl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Kill moments as a share of the 2,000 requests; jittered so each run hits a different instant. */
const MOMENTS = [0.1, 0.45, 0.8].map((m) => m + Math.random() * 0.1);

describe('exporter SIGKILLed under load (socket transport)', () => {
  const sut = new SystemUnderTest();
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it.each(MOMENTS.map((moment) => ({ pct: Math.round(moment * 100), moment })))(
    'at ~$pct% of 2,000 requests: nothing fails, nothing is lost unseen',
    async ({ moment }) => {
      const before = await sut.settled();
      const requests = plan(2_000);
      const traffic = runPlan(sut.base, requests, 8);
      await waitFor(
        'kill moment',
        async () => (await sut.ledger()).emitted - before.emitted >= moment * 2_000 || undefined,
        30_000,
      );
      sut.exporter?.signal('SIGKILL');
      await sut.exporter?.exited;
      const atKill = await waitFor('emitter to notice', async () => {
        const l = await sut.ledger();
        return l.connected ? undefined : l;
      });
      // The dead exporter leaves its socket file behind: the new one must clear it and take over.
      await sut.startExporter();
      expect(await traffic).toBe(2_000);
      const after = await sut.settled();
      expect(after.emitted - before.emitted).toBe(2_000);
      expect(after.emitted).toBe(after.acknowledged + after.dropped);
      expect(after.dropped).toBe(0);
      const ackedByNew = after.acknowledged - atKill.acknowledged;
      const counted = sumSamples(await sut.metrics(), 'downloader_requests_total');
      expect(counted).toBe(ackedByNew);
      expect(atKill.acknowledged - before.acknowledged + ackedByNew).toBe(2_000);
    },
  );
});

describe('exporter frozen (SIGSTOP) under load', () => {
  // A buffer far under the start-up check's size for the default peak rate: lowered with it.
  const sut = new SystemUnderTest({ EVENTS_BUFFER_EVENTS: '1000', EVENTS_PEAK_RATE: '1000', EVENTS_DROP_REPORT_S: '0.2' });
  beforeAll(() => sut.start());
  afterAll(() => sut.stop());

  it('serves every request, caps the buffer, counts drops, and agrees after SIGCONT', async () => {
    sut.exporter?.signal('SIGSTOP');
    const served = await runPlan(sut.base, plan(5_000), 16);
    expect(served).toBe(5_000);
    const frozen = await sut.ledger();
    expect(frozen.buffered).toBeLessThanOrEqual(1_000);
    expect(frozen.dropped).toBeGreaterThan(0);
    expect(frozen.emitted).toBe(5_000);
    sut.exporter?.signal('SIGCONT');
    const after = await sut.settled();
    expect(after.emitted).toBe(5_000);
    expect(after.emitted).toBe(after.acknowledged + after.dropped);
    const samples = await waitFor('drop report to arrive', async () => {
      const s = await sut.metrics();
      return sumSamples(s, 'downloader_telemetry_events_dropped_total') === after.dropped ? s : undefined;
    });
    expect(sumSamples(samples, 'downloader_requests_total')).toBe(after.acknowledged);
  });
});
