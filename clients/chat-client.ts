/**
 * The chat load client (scenario chat-fanout): one room of N members, the
 * first S of them senders, each sending `rateHz` frames a second on a fixed
 * schedule (open loop: a slow server does not slow the senders down; frames
 * that fell due while the client was busy go out at once). Every member reads
 * everything; per delivered frame it records the fan-out latency (receive
 * time minus send time, µs, in an HdrHistogram) and checks the frame is a
 * whole chat frame in per-sender order (clients/chat-message.ts). At the
 * end it waits for the frames still on their way and counts, for every
 * member still in the room, the frames it never got.
 *
 * It drives the runner like LoadClient (start → beginMeasure → endMeasure
 * → finish), on the main thread: a room is tens to hundreds of sockets at a
 * bounded rate, and the runner's CPU figures flag a client that could not
 * keep up (CLIENT-SATURATED), as for echo.
 */
import net from "node:net";
import { sys } from "../native/index.js";
import { FrameReader } from "../protocol/chat.js";
import { CHAT_FIELDS_BYTES, SenderOrder, chatFrame, nowUs, readChatFrame } from "./chat-message.js";
import { createHistogram, recordUs } from "../contracts/histogram.js";
import { TIMELINE_INTERVAL_MS } from "./shared.js";
import type { ClientMeasurement, ErrorCounts, LiveCounters } from "../contracts/client.js";
import type { ChatClientOptions, ChatMeasurement } from "../contracts/client.js";

/** Sender id of the join probes. */
const PROBE = 0xffffffff;
/** How often the senders' schedule is looked at, ms. */
const TICK_MS = 2;
/** Connects in flight at once while the room fills. */
const CONNECT_BATCH = 64;

class Member {
  readonly order = new SenderOrder();
  readonly reader: FrameReader;
  received = 0;
  /** Deliveries inside the measured window. */
  receivedInWindow = 0;
  probes = 0;
  closed = false;

  constructor(
    readonly socket: net.Socket,
    maxFrameBytes: number,
  ) {
    this.reader = new FrameReader(maxFrameBytes);
  }
}

function zeroErrors(): ErrorCounts {
  return { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 };
}

/** Throws one line for options a chat run cannot use. */
export function checkChatOptions(o: ChatClientOptions): void {
  if (!Number.isInteger(o.members) || o.members < 1) throw new Error(`chat: the room needs at least 1 member, got ${o.members}`);
  if (!Number.isInteger(o.senders) || o.senders < 1 || o.senders > o.members) throw new Error(`chat: senders must be 1..${o.members} (the members), got ${o.senders}`);
  if (!(o.rateHz > 0 && o.rateHz <= 100_000)) throw new Error(`chat: rate must be > 0 and at most 100000 frames/s per sender, got ${o.rateHz}`);
  if (!Number.isInteger(o.payloadBytes) || o.payloadBytes < CHAT_FIELDS_BYTES) throw new Error(`chat: frames carry at least ${CHAT_FIELDS_BYTES} bytes (sender, seq, send time), got ${o.payloadBytes}`);
}

/** A running room. Use: start → (warm-up) → beginMeasure → endMeasure → finish; stop() on error paths. */
export class ChatLoadClient {
  private readonly latency = createHistogram();
  private readonly connectLatency = createHistogram();
  private readonly errors = zeroErrors();
  private readonly errorsTotal = zeroErrors();
  private readonly sent: number[];
  private readonly timeline: number[] = [];
  private readonly startUs = nowUs();
  private measuring = false;
  private measureStartIndex = 0;
  private beginAt = 0;
  private endAt = 0;
  private deliveries = 0;
  private deliveredBytes = 0;
  private broken = 0;
  private liveDeliveries = 0;
  private liveErrors = 0;
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    private readonly o: ChatClientOptions,
    private readonly members: Member[],
  ) {
    this.sent = new Array<number>(o.senders).fill(0);
  }

  /** Fills the room, waits until every member is in it, then starts the senders. */
  static async start(o: ChatClientOptions): Promise<ChatLoadClient> {
    checkChatOptions(o);
    const members: Member[] = [];
    const client = new ChatLoadClient(o, members);
    try {
      for (let i = 0; i < o.members; i += CONNECT_BATCH) {
        const batch = Array.from({ length: Math.min(CONNECT_BATCH, o.members - i) }, () => client.connect());
        members.push(...(await Promise.all(batch)));
      }
      await client.join();
    } catch (err) {
      client.close();
      throw err;
    }
    client.startSenders();
    return client;
  }

  private connect(): Promise<Member> {
    const t0 = nowUs();
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.o.host, port: this.o.port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${this.o.host}:${this.o.port} timed out`)), this.o.timeoutMs);
      socket.once("error", (err: Error) => {
        clearTimeout(timer);
        reject(new Error(`chat: a member could not connect: ${err.message}`));
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        recordUs(this.connectLatency, nowUs() - t0);
        const m = new Member(socket, Math.max(this.o.payloadBytes, CHAT_FIELDS_BYTES));
        socket.removeAllListeners("error");
        socket.on("error", () => undefined); // "close" follows and counts it
        socket.on("close", () => this.onClose(m));
        socket.on("data", (chunk: Buffer) => this.onData(m, chunk));
        resolve(m);
      });
    });
  }

  /** Member 0 sends probes until every member has received one: the server has them all in the room. */
  private async join(): Promise<void> {
    const until = Date.now() + this.o.timeoutMs;
    const first = this.members[0]!;
    for (let seq = 0; this.members.some((m) => m.probes === 0); seq++) {
      if (Date.now() > until) throw new Error(`chat: ${this.members.filter((m) => m.probes === 0).length} of ${this.members.length} members never joined the room (a server that serves fewer connections at once, such as a blocking pool of fewer threads, cannot hold the room)`);
      if (this.members.some((m) => m.closed)) throw new Error("chat: the server closed a member while the room filled");
      first.socket.write(chatFrame(PROBE, seq, 0, CHAT_FIELDS_BYTES));
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private onData(m: Member, chunk: Buffer): void {
    const error = m.reader.push(chunk, 0, chunk.length, (frame) => this.onFrame(m, frame));
    if (error !== null) {
      this.count("mismatch");
      this.broken++;
      m.socket.destroy();
    }
  }

  private onFrame(m: Member, frame: Uint8Array): void {
    const f = readChatFrame(frame);
    if (f === null) {
      this.broken++;
      this.count("mismatch");
      return;
    }
    if (f.sender === PROBE) {
      m.probes++;
      return;
    }
    m.received++;
    this.liveDeliveries++;
    const before = m.order.skipped + m.order.violations;
    if (!m.order.see(f.sender, f.seq)) this.count("mismatch", m.order.skipped + m.order.violations - before);
    const now = nowUs();
    const slot = Math.floor((now - this.startUs) / (TIMELINE_INTERVAL_MS * 1000));
    this.timeline[slot] = (this.timeline[slot] ?? 0) + 1;
    if (!this.measuring) return;
    recordUs(this.latency, now - f.sentUs);
    m.receivedInWindow++;
    this.deliveries++;
    this.deliveredBytes += frame.length;
  }

  private onClose(m: Member): void {
    m.closed = true;
    if (!this.stopped) this.count("closedEarly");
  }

  private count(kind: keyof ErrorCounts, n = 1): void {
    this.errorsTotal[kind] += n;
    this.liveErrors += n;
    if (this.measuring) this.errors[kind] += n;
  }

  /** Each sender's frame i is due at start + i / rate; every tick sends what is due (bounded: the rate is). */
  private startSenders(): void {
    const t0 = nowUs();
    const periodUs = 1e6 / this.o.rateHz;
    this.ticker = setInterval(() => {
      const now = nowUs();
      for (let s = 0; s < this.o.senders; s++) {
        const m = this.members[s]!;
        // Senders start a fraction of a period apart, so their frames do not all coincide.
        const offset = (periodUs * s) / this.o.senders;
        while (!m.closed && t0 + offset + this.sent[s]! * periodUs <= now) {
          // The send time is the write's, not the schedule's: a tick is up to
          // TICK_MS late, which would swamp a fan-out of tens of µs.
          m.socket.write(chatFrame(s, this.sent[s]!, nowUs(), this.o.payloadBytes));
          this.sent[s]!++;
        }
      }
    }, TICK_MS);
  }

  /** Counters for the runner's progress line. */
  live(): LiveCounters {
    return { messages: this.liveDeliveries, errors: this.liveErrors, connected: this.members.filter((m) => !m.closed).length, connects: this.members.length };
  }

  beginMeasure(): void {
    this.measuring = true;
    this.beginAt = performance.now();
    this.measureStartIndex = Math.floor((nowUs() - this.startUs) / (TIMELINE_INTERVAL_MS * 1000));
  }

  endMeasure(): void {
    this.measuring = false;
    this.endAt = performance.now();
  }

  /** Stops the senders, waits for what is on its way (up to timeoutMs), counts what never came, closes the room. */
  async finish(): Promise<ClientMeasurement & { chat: ChatMeasurement }> {
    clearInterval(this.ticker);
    const inRoom = (): Member[] => this.members.filter((m) => !m.closed);
    const owed = (m: Member): number => this.sent.reduce((sum, n, s) => sum + Math.max(0, n - m.order.received(s)), 0);
    const until = Date.now() + this.o.timeoutMs;
    while (inRoom().some((m) => owed(m) > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const connected = inRoom().length;
    const framesSent = this.sent.reduce((a, b) => a + b, 0);
    // Lost in the middle (skipped, counted as mismatches when seen) or at the end (never came).
    const skipped = inRoom().reduce((sum, m) => sum + m.order.skipped, 0);
    const missing = inRoom().reduce((sum, m) => sum + owed(m), 0) + skipped;
    this.errors.mismatch += missing - skipped;
    this.errorsTotal.mismatch += missing - skipped;
    const chat: ChatMeasurement = {
      members: this.o.members,
      senders: this.o.senders,
      rateHz: this.o.rateHz,
      framesSent,
      deliveriesExpected: framesSent * connected,
      deliveriesReceived: inRoom().reduce((sum, m) => sum + m.received, 0),
      missing,
      outOfOrder: this.members.reduce((sum, m) => sum + m.order.violations, 0),
      broken: this.broken,
      membersClosed: this.members.length - connected,
    };
    this.close();
    const timeline = Array.from({ length: this.timeline.length }, (_, i) => this.timeline[i] ?? 0);
    return {
      durationMs: this.endAt - this.beginAt,
      messages: this.deliveries,
      bytes: this.deliveredBytes,
      latencyUs: this.latency,
      uncorrectedLatencyUs: null, // the send time is the write's own (see startSenders)
      connectLatencyUs: this.connectLatency,
      firstEchoUs: null,
      errors: { ...this.errors },
      errorsTotal: { ...this.errorsTotal },
      sessionsConnected: connected,
      sessionsServed: this.members.filter((m) => m.receivedInWindow > 0).length,
      sessionsTimedOut: 0,
      connects: 0, // every member connected before the warm-up
      connectsTotal: this.members.length,
      timeline: { intervalMs: TIMELINE_INTERVAL_MS, messages: timeline, measureStartIndex: this.measureStartIndex },
      threadIds: [sys.gettid()],
      chat,
    };
  }

  /** Closes every member at once. Safe to call twice. */
  async stop(): Promise<void> {
    this.close();
  }

  private close(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    for (const m of this.members) m.socket.destroy();
  }
}
