import type { MessagePort } from 'node:worker_threads';
import type { Exporter } from '../exporter.ts';
import type { ExpositionFormat } from '../exposition/families.ts';

export type ViewName = 'performance' | 'health' | 'live';

/**
 * What the HTTP surface asks of the exporter. Every answer is asynchronous because in the process
 * the HTTP surface runs on a thread of its own (worker.ts) and asks the main thread, where ingest
 * and the aggregates live; tests use the same surface in-process over `localFace`.
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

type Op = keyof ExporterFace;
interface Call {
  id: number;
  op: Op;
  arg: unknown;
}
interface Reply {
  id: number;
  value?: unknown;
  error?: string;
}

/**
 * Main thread: answers the calls a `remoteFace` sends over `port`, one per turn of the event loop.
 * Calls arrive in bursts (every view's reuse window ends together); answered back to back they would
 * hold the loop for all of them, while between two of them the loop reads the event socket.
 */
export function serveFace(face: ExporterFace, port: MessagePort): void {
  const queue: Call[] = [];
  let draining = false;
  const answer = ({ id, op, arg }: Call) =>
    (face[op] as (arg: unknown) => Promise<unknown>)(arg).then(
      (value) => port.postMessage({ id, value } satisfies Reply),
      (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
    );
  const drain = () => {
    const call = queue.shift();
    if (!call) {
      draining = false;
      return;
    }
    void answer(call).finally(() => setImmediate(drain));
  };
  port.on('message', (call: Call) => {
    queue.push(call);
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  });
}

/** HTTP thread: a face whose every call is answered by the main thread over `port`. */
export function remoteFace(port: MessagePort): ExporterFace {
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  port.on('message', ({ id, value, error }: Reply) => {
    const call = pending.get(id);
    pending.delete(id);
    if (error === undefined) call?.resolve(value);
    else call?.reject(new Error(error));
  });
  const call = <T>(op: Op, arg?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      port.postMessage({ id, op, arg } satisfies Call);
    });
  return {
    render: (format) => call('render', format),
    view: (name) => call('view', name),
    history: (since) => call('history', since),
    ready: () => call('ready'),
  };
}
