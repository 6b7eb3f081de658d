import type { Exporter } from '../exporter.ts';
import type { ExpositionFormat } from '../exposition/families.ts';

export type ViewName = 'performance' | 'health' | 'live';

/**
 * What the HTTP surface asks of the exporter, and all it can: render, views, history, ready. Answers
 * are promises so that a face can render wherever it likes (tests count and fail renders through it).
 */
export interface ExporterFace {
  render(format: ExpositionFormat): Promise<string | Uint8Array>;
  /** A JSON view, serialised. */
  view(name: ViewName): Promise<string>;
  history(since: number): Promise<string>;
  ready(): Promise<boolean>;
}

/** The face of an exporter in this thread. */
export function localFace(exporter: Pick<Exporter, 'render' | 'views' | 'ready'>): ExporterFace {
  return {
    render: async (format) => exporter.render(format),
    view: async (name) => JSON.stringify(exporter.views[name]()),
    history: async (since) => JSON.stringify(exporter.views.history(since)),
    ready: async () => exporter.ready(),
  };
}
