/**
 * autocannon as a load driver, through its programmatic API, in this
 * process's main thread (one client thread, as `autocannon` without
 * --workers). Warm-up and window are two autocannon instances: the window's
 * starts when the warm-up's is stopped, so nothing of the warm-up is in it.
 * Latency comes from autocannon's own per-response timing (its "response"
 * event, ms), recorded in iobench's µs histogram; bodies are checked by
 * autocannon's expectBody (a different body is a mismatch), statuses
 * other than 2xx are mismatches too.
 */
import autocannon from "autocannon";
import { sys } from "../native/index.js";
import type { LoadDriver } from "../contracts/client.js";
import { createHistogram } from "../contracts/histogram.js";
import { FastRecorder } from "./recorder.js";
import { TIMELINE_INTERVAL_MS } from "./shared.js";
import type { ClientMeasurement, ClientOptions, ErrorCounts, LiveCounters } from "../contracts/client.js";
import { NO_ERRORS } from "../contracts/client.js";
import { HTTP_GET_BODY } from "../protocol/http.js";
import { outsideToolBody } from "./message.js";

/** How long an instance may run at most (it is stopped long before). */
const MAX_RUN_SEC = 24 * 3600;

export class AutocannonClient implements LoadDriver {
  private instance: autocannon.Instance | null = null;
  private done: Promise<void> = Promise.resolve();
  private measuring = false;
  private readonly latency = new FastRecorder();
  private messages = 0;
  private bytes = 0;
  private errors: ErrorCounts = { ...NO_ERRORS };
  private readonly errorsTotal: ErrorCounts = { ...NO_ERRORS };
  private totalMessages = 0;
  private totalErrors = 0;
  /** Connections that answered inside the window. */
  private readonly responders = new Set<unknown>();
  /** Connections that ever answered (autocannon reports no connects: an answer proves one). */
  private readonly everConnected = new Set<unknown>();
  private beginAt: number | undefined;
  private endAt: number | undefined;
  private readonly startedAt = performance.now();
  private readonly timeline: number[] = [];
  private measureStartIndex = 0;
  private connectedAtEnd = 0;

  private constructor(private readonly opts: ClientOptions) {}

  static async start(opts: ClientOptions): Promise<AutocannonClient> {
    const c = new AutocannonClient(opts);
    c.launch();
    return c;
  }

  /** The request every connection sends, and the body its answer must have. */
  private request(): { method: "GET" | "POST"; body?: string; expectBody: string } {
    if (this.opts.http !== "POST") return { method: "GET", expectBody: HTTP_GET_BODY };
    const body = outsideToolBody(this.opts.sizeBytes);
    return { method: "POST", body, expectBody: body };
  }

  private launch(): void {
    const o = this.opts;
    const host = o.host.includes(":") ? `[${o.host}]` : o.host;
    let ended: () => void = () => undefined;
    this.done = new Promise((resolve) => (ended = resolve));
    // With a callback autocannon returns its instance (an event emitter), not a promise.
    const instance = autocannon(
      {
        url: `http://${host}:${o.port}/`,
        connections: o.sessions,
        duration: MAX_RUN_SEC,
        timeout: Math.max(1, Math.ceil(o.timeoutMs / 1000)),
        ...this.request(),
      },
      () => ended(),
    );
    this.instance = instance;
    // A stopped instance may still deliver a few answers: only the current one counts.
    const current = (): boolean => this.instance === instance;
    const count = (kind: keyof ErrorCounts): void => {
      if (!current()) return;
      this.totalErrors++;
      this.errorsTotal[kind]++;
      if (this.measuring) this.errors[kind]++;
    };
    instance.on("response", (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => {
      if (!current()) return;
      this.totalMessages++;
      this.bumpTimeline();
      this.everConnected.add(client);
      if (statusCode < 200 || statusCode > 299) return count("mismatch");
      if (!this.measuring) return;
      this.messages++;
      this.bytes += resBytes;
      this.latency.record(responseTimeMs * 1000);
      this.responders.add(client);
      this.everConnected.add(client);
    });
    // @types/autocannon does not list "reqMismatch" (a body other than expectBody).
    (instance as unknown as NodeJS.EventEmitter).on("reqMismatch", () => count("mismatch"));
    instance.on("reqError", (err: Error) => count(/timed out/.test(err.message) ? "timeout" : /ECONNREFUSED|connect/i.test(err.message) ? "connect" : "reset"));
    // autocannon prints nothing unless asked (no track()); its result object is not needed: every figure is counted above.
  }

  private bumpTimeline(): void {
    const i = Math.floor((performance.now() - this.startedAt) / TIMELINE_INTERVAL_MS);
    while (this.timeline.length <= i) this.timeline.push(0);
    this.timeline[i]!++;
  }

  live(): LiveCounters {
    return { messages: this.totalMessages, errors: this.totalErrors, connected: this.measuring ? this.responders.size : 0, connects: this.everConnected.size };
  }

  beginMeasure(): void {
    if (this.beginAt !== undefined) return;
    // A fresh instance for the window: autocannon's connections restart, which costs the window one connect each.
    this.instance?.stop();
    this.launch();
    this.latency.reset();
    this.messages = 0;
    this.bytes = 0;
    this.errors = { ...NO_ERRORS };
    this.responders.clear();
    this.measuring = true;
    this.beginAt = performance.now();
    this.measureStartIndex = Math.floor((this.beginAt - this.startedAt) / TIMELINE_INTERVAL_MS);
  }

  endMeasure(): void {
    if (this.beginAt === undefined || this.endAt !== undefined) return;
    this.measuring = false;
    this.endAt = performance.now();
    this.connectedAtEnd = this.responders.size;
  }

  async finish(): Promise<ClientMeasurement> {
    this.endMeasure();
    await this.stop();
    const durationMs = this.beginAt !== undefined && this.endAt !== undefined ? this.endAt - this.beginAt : 0;
    return {
      durationMs,
      messages: this.messages,
      bytes: this.bytes,
      latencyUs: this.latency.histogram(),
      uncorrectedLatencyUs: null, // autocannon runs a closed loop
      connectLatencyUs: createHistogram(), // autocannon does not time its connects
      firstEchoUs: null,
      errors: this.errors,
      errorsTotal: { ...this.errorsTotal },
      sessionsConnected: this.connectedAtEnd,
      sessionsServed: this.connectedAtEnd,
      sessionsTimedOut: 0, // autocannon counts timeouts, not which connection had them
      connects: this.connectedAtEnd, // the window's instance opened its connections inside the window
      connectsTotal: this.everConnected.size,
      timeline: { intervalMs: TIMELINE_INTERVAL_MS, messages: [...this.timeline], measureStartIndex: this.measureStartIndex },
      threadIds: [sys.gettid()],
    };
  }

  async stop(): Promise<void> {
    this.measuring = false;
    this.instance?.stop();
    this.instance = null;
    await this.done;
  }
}
