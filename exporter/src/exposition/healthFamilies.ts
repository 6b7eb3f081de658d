import { FACTORS, type HealthReport } from '../health/healthScore.ts';
import { CollectedFamily, type Family, singleValue } from './families.ts';

/**
 * The health score as gauges. One scrape reads the report three times (score, penalties, Apdex), so
 * it is computed once per scrape: `newScrape()` forgets the last one.
 */
export function healthFamilies(compute: () => HealthReport): { families: Family[]; newScrape(): void } {
  let cached: HealthReport | undefined;
  const report = () => {
    cached ??= compute();
    return cached;
  };
  return {
    families: [
      singleValue(
        'downloader_health_score',
        'Health score 0-100 over HEALTH_WINDOW (0 when the downloader is unreachable).',
        () => report().overall_score,
      ),
      singleValue(
        'downloader_health_score_ratio',
        'Health score as a ratio, 0-1 (downloader_health_score / 100).',
        () => report().overall_score / 100,
      ),
      new CollectedFamily(
        'downloader_health_factor_penalty',
        'Points each factor takes off the health score.',
        ['factor'],
        () => {
          const r = report();
          return FACTORS.map((f) => [[f], r.factors[f].penalty] as const);
        },
      ),
      singleValue(
        'downloader_apdex',
        'Apdex over HEALTH_WINDOW with T = APDEX_T_S (absent without traffic).',
        () => report().factors.apdex.value ?? undefined,
      ),
    ],
    newScrape: () => {
      cached = undefined;
    },
  };
}
