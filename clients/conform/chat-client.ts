/**
 * Small independent chat clients for the conformance checks: a `net`
 * socket, the framing of protocol/chat.ts, and the payload of
 * clients/chat-message.ts. Each records every frame it receives.
 */
import type net from "node:net";
import { FrameReader } from "../../protocol/chat.js";
import { SenderOrder, chatFrame, readChatFrame } from "../chat-message.js";
import { connect, delay, type Target } from "./net.js";

/** Sender id of the join probes (never a test sender). */
export const PROBE_SENDER = 0xffffffff;

/** A connected chat client and what it received. */
export class ChatClient {
  readonly order = new SenderOrder();
  /** Frames that were not whole chat frames. */
  broken = 0;
  /** Data frames received (probes excluded). */
  frames = 0;
  probes = 0;
  closed = false;
  private readonly reader: FrameReader;

  private constructor(
    readonly socket: net.Socket,
    maxFrameBytes: number,
  ) {
    this.reader = new FrameReader(maxFrameBytes);
    socket.on("data", (chunk: Buffer) => {
      const error = this.reader.push(chunk, 0, chunk.length, (frame) => this.onFrame(frame));
      if (error !== null) this.broken++;
    });
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }

  static async open(target: Target, maxFrameBytes = 64 * 1024): Promise<ChatClient> {
    return new ChatClient(await connect(target), maxFrameBytes);
  }

  private onFrame(frame: Uint8Array): void {
    const f = readChatFrame(frame);
    if (f === null) {
      this.broken++;
    } else if (f.sender === PROBE_SENDER) {
      this.probes++;
    } else {
      this.frames++;
      this.order.see(f.sender, f.seq);
    }
  }

  /**
   * Writes bytes; resolves once the socket took them and this process's
   * event loop had a turn: a write callback alone can come back before any
   * read is handled, and a test whose clients never read would see the
   * server drop them, rightly.
   */
  async write(bytes: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
    await new Promise((resolve) => setImmediate(resolve));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Polls `done` every 5 ms until it holds; throws `what` after timeoutMs. */
export async function waitUntil(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out: ${what()}`);
    await delay(5);
  }
}

/**
 * Returns once every client is in the room: `via` sends probes until each
 * client has received one. A server registers a connection when its thread
 * gets to it, which may be after connect() resolved.
 */
export async function joinRoom(via: ChatClient, clients: readonly ChatClient[], timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (let seq = 0; clients.some((c) => c.probes === 0); seq++) {
    if (Date.now() > until) {
      const out = clients.filter((c) => c.probes === 0).length;
      // A server with a thread per member (blocking) serves only as many members as it has threads.
      throw new Error(`timed out: ${out} of ${clients.length} connected clients never joined the room (does the server serve that many connections at once?)`);
    }
    await via.write(chatFrame(PROBE_SENDER, seq, 0, 16));
    await delay(20);
  }
}
