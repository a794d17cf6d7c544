/**
 * What a session core (core.ts) asks of an I/O backend, and what both
 * sides share. As wrk's ae.c over ae_epoll.c: the core is the client once
 * (sessions, script, measuring); a backend only moves bytes: epoll.ts
 * (readiness, a recv and a send call per message) or uring.ts (io_uring,
 * one call per batch).
 *
 * A backend reads the core's per-session arrays directly (state, fd, the
 * message in flight) and reports back through its methods: connected(),
 * received(), fail(). Each worker thread makes one backend, so every call
 * between the two stays monomorphic on the hot path.
 */

/** Session states. */
export const QUEUED = 0; // waiting for a connect slot
export const CONNECTING = 1; // connect in flight
export const ACTIVE = 2; // connected, a message in flight
export const BACKOFF = 3; // closed after an error, waiting to retry
export const CLOSED = 4; // stopped
export const RAMP = 5; // not yet started: a timer queues it (ramp-up)
export const PAUSED = 6; // connected, no message in flight: a timer sends the next one (think time, open-loop schedule)

/** How long a wait may last: how late an idle worker notices the phase word, a timeout or a due retry, ms. */
export const WAIT_MS = 20;

/** The I/O of one worker thread's sessions. */
export interface Backend {
  /** Takes charge of session s's new socket, whose non-blocking connect is in flight; its end is reported to core.connected or core.fail. */
  watch(s: number, fd: number): void;
  /** Session s is connected: from now on its echo bytes go to core.received. */
  opened(s: number): void;
  /** Sends session s's message in flight (core.len[s] bytes of the pattern at core.shift[s]), all of it, in the background if need be. */
  send(s: number): void;
  /** Closes session s's socket (while the core still has its state); abort = RST instead of FIN. */
  close(s: number, abort: boolean): void;
  /** Waits up to `ms` for I/O, sets core.now as the wait returns, and hands over whatever completed. */
  poll(ms: number): void;
  /** Closes every socket still open (FIN: a clean end for the server) and the backend itself. */
  end(): void;
}
