import { test } from "node:test";
import assert from "node:assert/strict";
import { TimerHeap } from "../clients/timer-heap.js";

test("the timer heap pops in time order, whatever the push order", () => {
  const heap = new TimerHeap(1000);
  let x = 12345;
  const times: number[] = [];
  for (let i = 0; i < 1000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const t = x % 5000; // duplicates included
    times.push(t);
    heap.push(t, i);
  }
  assert.equal(heap.size, 1000);
  let last = -Infinity;
  const seen = new Set<number>();
  while (heap.size > 0) {
    const t = heap.peekTime();
    const s = heap.pop();
    assert.ok(t >= last, `${t} after ${last}`);
    assert.equal(times[s], t, "the session popped is the one pushed with that time");
    seen.add(s);
    last = t;
  }
  assert.equal(seen.size, 1000);
  assert.equal(heap.pop(), -1);
  assert.equal(heap.peekTime(), Infinity);
});

test("the timer heap refuses a push past its capacity", () => {
  const heap = new TimerHeap(2);
  heap.push(1, 0);
  heap.push(2, 1);
  assert.throws(() => heap.push(3, 2), /full/);
  heap.clear();
  assert.equal(heap.size, 0);
});
