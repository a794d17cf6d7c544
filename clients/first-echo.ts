/**
 * Time from connect() to a connection's first echo, per session. The
 * kernel completes a TCP handshake from the listen backlog whether or not
 * the server has called accept(), so connect latency cannot show a server
 * that is slow to accept; the first echo can, since no byte comes back
 * before the server took the connection. Both session engines record it
 * the same way: armed when the connect starts, recorded once at the first
 * complete echo (inside the window only), disarmed until the next connect.
 */
import { FastRecorder } from "./recorder.js";

export class FirstEchoRecorder {
  /** Start of the connection's connect(), ms (performance.now), or -1 once its first echo is in. */
  private readonly since: Float64Array;
  private readonly recorder = new FastRecorder();

  constructor(sessions: number) {
    this.since = new Float64Array(sessions).fill(-1);
  }

  /** Session s calls connect() at time t (ms). */
  connecting(s: number, t: number): void {
    this.since[s] = t;
  }

  /** Session s completed an echo at time t (ms): the first since its connect is recorded when `measuring`. */
  echoed(s: number, t: number, measuring: boolean): void {
    const c = this.since[s] as number;
    if (c < 0) return;
    this.since[s] = -1;
    if (measuring) this.recorder.record((t - c) * 1000);
  }

  /** Start of the window: forget what warm-up recorded. */
  reset(): void {
    this.recorder.reset();
  }

  /** Encoded for the main thread (µs). */
  encode(): string {
    return this.recorder.encode();
  }
}
