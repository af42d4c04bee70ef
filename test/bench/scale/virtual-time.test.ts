import { describe, expect, it } from 'vitest';
import { EventHeap, VirtualTime } from '../../../bench/scale/virtual-time';

describe('VirtualTime', () => {
  it('runs async continuations at the virtual instant their promise settles', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    const seen: [string, number][] = [];
    const worker = async () => {
      const value = await time.later(10, () => 'ten');
      seen.push([value, time.now()]);
      await time.sleep(5);
      seen.push(['slept', time.now()]);
      await Promise.resolve();
      seen.push(['same instant', time.now()]);
      await time.later(2.5, () => undefined);
      seen.push(['fraction', time.now()]);
    };
    const done = worker();
    await time.run(100);
    await done;
    expect(seen).toEqual([
      ['ten', 10],
      ['slept', 15],
      ['same instant', 15],
      ['fraction', 17.5],
    ]);
    expect(time.now()).toBe(100);
  });

  it('lets a deep chain of microtasks finish before time moves on', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    let finishedAt = -1;
    time.after(10, () => {
      void (async () => {
        for (let i = 0; i < 500; i++) await Promise.resolve();
        finishedAt = time.now();
      })();
    });
    time.after(11, () => {});
    await time.run(50);
    expect(finishedAt).toBe(10);
  });

  it('runs events of one instant in scheduling order, and none after `until`', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    const order: string[] = [];
    time.at(5, () => order.push('a'));
    time.at(3, () => order.push('first'));
    time.at(5, () => order.push('b'));
    time.at(7, () => order.push('late'));
    const cancelled = time.at(4, () => order.push('cancelled'));
    time.cancel(cancelled);
    await time.run(6);
    expect(order).toEqual(['first', 'a', 'b']);
    expect(time.pending).toBe(1);
  });

  it('aborts a timeout signal at its virtual deadline, and not once disposed', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    const fired = time.timeoutSignal(30);
    const disposed = time.timeoutSignal(30);
    disposed.dispose();
    let abortedAt = -1;
    fired.signal.addEventListener('abort', () => {
      abortedAt = time.now();
    });
    await time.run(29);
    expect(fired.signal.aborted).toBe(false);
    await time.run(100);
    expect(abortedAt).toBe(30);
    expect((fired.signal.reason as Error).name).toBe('TimeoutError');
    expect(disposed.signal.aborted).toBe(false);
  });

  it('rounds event times up to the quantum when one is set', async () => {
    const time = new VirtualTime({ epochMs: 0, quantumMs: 1 });
    const seen: number[] = [];
    time.at(2.2, () => seen.push(time.now()));
    time.at(3, () => seen.push(time.now()));
    await time.run(10);
    expect(seen).toEqual([3, 3]);
  });
});

describe('EventHeap', () => {
  it('pops events by time, then by sequence', () => {
    const heap = new EventHeap();
    let x = 12345;
    const times: number[] = [];
    for (let seq = 0; seq < 2000; seq++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const time = x % 97;
      times.push(time);
      heap.push({ time, seq, fn: undefined });
    }
    const popped: { time: number; seq: number }[] = [];
    for (let event = heap.pop(); event; event = heap.pop()) popped.push(event);
    expect(popped.map((e) => e.time)).toEqual([...times].sort((a, b) => a - b));
    for (let i = 1; i < popped.length; i++) {
      const [a, b] = [popped[i - 1], popped[i]];
      if (a && b && a.time === b.time) expect(a.seq).toBeLessThan(b.seq);
    }
  });
});
