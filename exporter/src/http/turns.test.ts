import { describe, expect, it } from 'vitest';
import { turnTaking } from './turns.ts';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('turnTaking', () => {
  it('lets at most perTurn requests on per turn of the event loop, in arrival order, and all of them in the end', async () => {
    const turn = turnTaking(8);
    const released: number[] = [];
    for (let i = 0; i < 20; i++) void turn().then(() => released.push(i));
    expect(released).toEqual([]);
    const perTurn: number[] = [];
    while (released.length < 20 && perTurn.length < 10) {
      const before = released.length;
      await nextTurn();
      perTurn.push(released.length - before);
    }
    expect(perTurn).toEqual([8, 8, 4]);
    expect(released).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('runs other work between the turns: a storm never holds a turn of the loop for all of its requests', async () => {
    const turn = turnTaking(2);
    let requests = 0;
    for (let i = 0; i < 10; i++) void turn().then(() => requests++);
    // What ingest would do: a callback queued now runs in the next turn, after the first slice only.
    const seen: number[] = [];
    for (let t = 0; t < 5; t++) {
      await nextTurn();
      seen.push(requests);
    }
    expect(seen).toEqual([2, 4, 6, 8, 10]);
  });

  it('starts again after an idle spell', async () => {
    const turn = turnTaking(1);
    await turn();
    await nextTurn();
    let done = false;
    void turn().then(() => (done = true));
    await nextTurn();
    expect(done).toBe(true);
  });
});
