import type { Aggregator } from '../aggregate/aggregator.ts';
import type { LineDecoder } from '../ingest/lineDecoder.ts';
import type { Polling } from '../poll/polling.ts';
import type { Family } from './families.ts';
import { FamilySet } from './familySet.ts';
import { downloaderFamilies, redisFamilies } from './polledFamilies.ts';
import type { PollFamilies } from './pollFamilies.ts';
import { type IngestCounts, selfFamilies } from './selfFamilies.ts';

export interface MetricSources {
  aggregator: Aggregator;
  decoder: LineDecoder;
  polling: Polling;
  pollFamilies: PollFamilies;
  health: Family[];
  seriesLimit: number;
  ingest: IngestCounts;
  now: () => number;
}

/** Every family /metrics renders, in the order it renders them: the seed's request metrics first. */
export function metricSet(src: MetricSources): FamilySet {
  const { aggregator, polling } = src;
  return new FamilySet().add(
    ...aggregator.requests.families,
    ...aggregator.domain.families,
    ...downloaderFamilies(polling.downloader),
    ...(polling.redis ? redisFamilies(polling.redis) : []),
    ...src.health,
    ...src.decoder.families,
    ...src.pollFamilies.families,
    ...selfFamilies({ ...src, downloader: polling.downloader }),
  );
}
