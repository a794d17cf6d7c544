/**
 * A binary min-heap of (time, session) pairs in typed arrays: the client's
 * timers (ramp-up start, think time, open-loop send times). Allocation-free
 * after construction, O(log n) per push and pop. The engine keeps at most
 * one entry per session, so a capacity of one per session is enough.
 */
export class TimerHeap {
  private readonly at: Float64Array;
  private readonly who: Int32Array;
  private count = 0;

  constructor(capacity: number) {
    this.at = new Float64Array(Math.max(1, capacity));
    this.who = new Int32Array(Math.max(1, capacity));
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** Time of the earliest entry; Infinity when empty. */
  peekTime(): number {
    return this.count > 0 ? (this.at[0] as number) : Infinity;
  }

  /** Adds an entry; throws when full (a bug: the engine keeps one per session). */
  push(time: number, session: number): void {
    if (this.count === this.at.length) throw new Error("timer heap full");
    const at = this.at;
    const who = this.who;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = at[parent] as number;
      if (pt <= time) break;
      at[i] = pt;
      who[i] = who[parent] as number;
      i = parent;
    }
    at[i] = time;
    who[i] = session;
  }

  /** Removes the earliest entry and returns its session; -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const at = this.at;
    const who = this.who;
    const top = who[0] as number;
    const n = --this.count;
    if (n === 0) return top;
    const time = at[n] as number;
    const session = who[n] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (at[child + 1] as number) < (at[child] as number)) child++;
      const ct = at[child] as number;
      if (ct >= time) break;
      at[i] = ct;
      who[i] = who[child] as number;
      i = child;
    }
    at[i] = time;
    who[i] = session;
    return top;
  }

  /** Forgets every entry. */
  clear(): void {
    this.count = 0;
  }
}
