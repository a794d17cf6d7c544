/**
 * The room's inboxes: how a chat thread hands a frame to the other threads
 * of an event-loop model (epoll, completion-routine), where each thread
 * owns its connections and only it may write to them.
 *
 * One inbox per thread, all in one SharedArrayBuffer, each a ring of
 * length-prefixed frames: any thread appends under the inbox's lock, its
 * owner reads without one (it alone moves the head). A frame is copied once,
 * into the ring, and delivered from there as a view, so handing frames on
 * makes no garbage. That matters here: these threads block in their own
 * waits (epoll_wait, the alertable wait) and never return to Node's event
 * loop, so V8's scheduled collections never run in them, and a per-frame
 * copy (a postMessage clone) piled up as dead buffers: tens of MiB in the
 * soak (docs/soak.md).
 *
 * A full inbox makes the sender wait until its owner has read some, draining
 * its own inbox meanwhile, so two threads each waiting on the other's full
 * inbox both move on. Nothing waits on a slow client: the owner's delivery
 * never blocks (a member that does not read is dropped).
 */
import { lockCell, unlockCell } from "../threads.js";

/** Control cells per inbox: lock, head, tail (head and tail count bytes and wrap at 2³², so the ring's size is a power of two). */
const LOCK = 0;
const HEAD = 1;
const TAIL = 2;
const CTL_INTS = 4; // one spare, so each inbox's control sits on its own 16 bytes
/** A length of -1: the rest of the ring up to its end is unused; the next frame is at 0. */
const SKIP = -1;
/** How long a sender waits for room before it drains its own inbox and looks again. */
const FULL_RECHECK_MS = 1;

/** Shared state of every thread's inbox: made by the supervisor, passed to each thread in its workerData. */
export interface InboxesData {
  ctl: SharedArrayBuffer;
  rings: SharedArrayBuffer;
  /** Bytes of each ring: a power of two that holds two largest frames. */
  ringBytes: number;
}

/** The frame bytes plus the length cell, rounded up to whole cells. */
function slotBytes(frameBytes: number): number {
  return 4 + ((frameBytes + 3) & ~3);
}

/** Inboxes for `threads` threads whose frames are at most `largestFrame` bytes long. */
export function makeInboxes(threads: number, largestFrame: number): InboxesData {
  let ringBytes = 1 << 20;
  while (ringBytes < 2 * slotBytes(largestFrame)) ringBytes *= 2;
  return {
    ctl: new SharedArrayBuffer(4 * CTL_INTS * threads),
    rings: new SharedArrayBuffer(ringBytes * threads),
    ringBytes,
  };
}

/** One thread's side of the inboxes: it posts to every other inbox and drains its own. */
export class Inboxes {
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly cells: Int32Array;
  private readonly mask: number;
  private readonly threads: number;

  constructor(
    d: InboxesData,
    private readonly own: number,
  ) {
    this.ctl = new Int32Array(d.ctl);
    this.bytes = new Uint8Array(d.rings);
    this.cells = new Int32Array(d.rings);
    this.mask = d.ringBytes - 1;
    this.threads = this.ctl.length / CTL_INTS;
  }

  /**
   * Appends frame to every other thread's inbox, calling wake(i) for each;
   * while an inbox is full, wakes its owner, drains our own inbox through
   * `deliver` and waits for room.
   */
  post(frame: Uint8Array, wake: (thread: number) => void, deliver: (frame: Uint8Array) => void): void {
    if (2 * slotBytes(frame.length) > this.mask + 1) throw new Error(`a ${frame.length}-byte frame is longer than the inboxes were made for`);
    for (let i = 0; i < this.threads; i++) {
      if (i === this.own) continue;
      while (!this.tryPut(i, frame)) {
        wake(i);
        this.drain(deliver);
        const c = i * CTL_INTS;
        Atomics.wait(this.ctl, c + HEAD, Atomics.load(this.ctl, c + HEAD), FULL_RECHECK_MS);
      }
      wake(i);
    }
  }

  /** Hands every frame in our inbox to deliver, as a view valid only during the call. */
  drain(deliver: (frame: Uint8Array) => void): void {
    const c = this.own * CTL_INTS;
    const base = this.own * (this.mask + 1);
    const tail = Atomics.load(this.ctl, c + TAIL);
    let head = Atomics.load(this.ctl, c + HEAD);
    if (head === tail) return;
    while (head !== tail) {
      const at = head & this.mask;
      const length = this.cells[(base + at) >> 2]!;
      if (length === SKIP) {
        head = (head + (this.mask + 1 - at)) | 0;
      } else {
        deliver(this.bytes.subarray(base + at + 4, base + at + 4 + length));
        head = (head + slotBytes(length)) | 0;
      }
      Atomics.store(this.ctl, c + HEAD, head); // each frame's room is free for senders at once
    }
    Atomics.notify(this.ctl, c + HEAD);
  }

  /** Appends frame to inbox i, or returns false when it has no room now. */
  private tryPut(i: number, frame: Uint8Array): boolean {
    const c = i * CTL_INTS;
    const size = this.mask + 1;
    const base = i * size;
    const need = slotBytes(frame.length);
    lockCell(this.ctl, c + LOCK);
    try {
      const head = Atomics.load(this.ctl, c + HEAD);
      const tail = Atomics.load(this.ctl, c + TAIL);
      const at = tail & this.mask;
      const skip = size - at < need ? size - at : 0;
      if (((tail - head) | 0) + skip + need > size) return false;
      if (skip > 0) this.cells[(base + at) >> 2] = SKIP;
      const to = (tail + skip) & this.mask;
      this.cells[(base + to) >> 2] = frame.length;
      this.bytes.set(frame, base + to + 4);
      // The atomic store publishes the bytes written above to the owner's atomic load of the tail.
      Atomics.store(this.ctl, c + TAIL, (tail + skip + need) | 0);
      return true;
    } finally {
      unlockCell(this.ctl, c + LOCK);
    }
  }
}
