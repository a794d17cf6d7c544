/**
 * Chat conformance (--protocol chat): the SAME cases for every model of
 * servers/models.ts, each against its own server process (2 threads, or
 * blocking's thread per connection, so frames must cross threads), with independent `net` clients
 * (test/conformance/chat-clients.ts):
 * - every frame reaches every client exactly once, whole, in per-sender order;
 * - an oversized or zero-length frame closes that connection (counted) and
 *   the server carries on;
 * - a client that stops reading is dropped (counted) while the others get
 *   every frame.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MODELS } from "../servers/models.js";
import { chatFrame } from "../clients/chat-message.js";
import { ChatClient, joinRoom, waitUntil, writeInPieces } from "./conformance/chat-clients.js";
import { startCountingServer, type ServerProcess } from "./conformance/server.js";

const CASE_TIMEOUT_MS = 60_000;
/** Models tested at once, as in conformance.test.ts. */
const MODELS_AT_ONCE = 3;

/** What a chat server counted, from its {"event":"stopped"} line. */
interface Counted {
  frames: number;
  oversized: number;
  malformed: number;
  slowDropped: number;
}

/**
 * Runs body against a fresh chat server, then stops the server (whatever
 * body did) and returns what it counted.
 */
async function withChatServer(model: string, extra: Record<string, unknown>, body: (port: number) => Promise<void>): Promise<Counted> {
  const { server, stopped } = await chatServer(model, extra);
  try {
    await body(server.port);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return stopped();
}

/** Starts a chat server; `stopped()` stops it and returns its counts. */
async function chatServer(model: string, extra: Record<string, unknown>): Promise<{ server: ServerProcess; stopped: () => Promise<Counted> }> {
  // A blocking pool of 2 would let only 2 clients in at once: give each its thread.
  const threads = model === "blocking" ? "per-connection" : 2;
  const { server, stopped } = await startCountingServer({ model, threads, protocol: "chat", ...extra });
  return { server, stopped: async () => (await stopped())["chat"] as Counted };
}

function chatCases(model: string): void {
  test("every frame reaches every client exactly once, whole, in per-sender order", { timeout: CASE_TIMEOUT_MS }, async () => {
    const clients: ChatClient[] = [];
    const counted = await withChatServer(model, {}, async (port) => {
      try {
        for (let i = 0; i < 6; i++) clients.push(await ChatClient.open(port));
        await joinRoom(clients[0]!, clients);
        const senders = clients.slice(0, 3);
        const perSender = 150;
        const burst = 3;
        const total = senders.length * perSender;
        // In rounds: the senders write a burst each at once, their frames
        // (16 B .. ~6 KiB) cut at odd points, then wait for every client to
        // have it all. Unpaced, a sender could outrun the readers (they share
        // this process) and the server would rightly drop them.
        for (let seq = 0; seq < perSender; seq += burst) {
          await Promise.all(
            senders.map(async (c, s) => {
              for (let q = seq; q < seq + burst; q++) await writeInPieces(c, chatFrame(s, q, 0, 16 + ((q * 997 + s * 131) % 6000)), q * 31 + s);
            }),
          );
          const sent = senders.length * (seq + burst);
          await waitUntil(() => clients.every((c) => c.frames >= sent), 10_000, () => `frames received: ${clients.map((c) => c.frames).join(", ")} of ${sent}`);
        }
        await new Promise((r) => setTimeout(r, 100)); // a duplicate would arrive now
        for (const [i, c] of clients.entries()) {
          assert.equal(c.broken, 0, `client ${i} received broken frames`);
          assert.equal(c.order.violations, 0, `client ${i}: frames out of per-sender order`);
          assert.equal(c.frames, total, `client ${i} received ${c.frames} frames, not ${total}`);
          for (let s = 0; s < senders.length; s++) assert.equal(c.order.received(s), perSender, `client ${i} from sender ${s}`);
          assert.equal(c.closed, false, `client ${i} was closed`);
        }
      } finally {
        for (const c of clients) c.close();
      }
    });
    assert.ok(counted.frames >= 450, `the server counted ${counted.frames} frames`);
    assert.equal(counted.oversized + counted.malformed + counted.slowDropped, 0);
  });

  test("an oversized or zero-length frame closes that connection only; the server carries on", { timeout: CASE_TIMEOUT_MS }, async () => {
    const maxFrameBytes = 1024;
    const clients: ChatClient[] = [];
    const counted = await withChatServer(model, { maxFrameBytes }, async (port) => {
      try {
        for (let i = 0; i < 4; i++) clients.push(await ChatClient.open(port));
        const [good, other, big, empty] = clients as [ChatClient, ChatClient, ChatClient, ChatClient];
        await joinRoom(good, clients);
        await big.write(Uint8Array.of(0, 0, (maxFrameBytes + 1) >> 8, (maxFrameBytes + 1) & 0xff)); // a header only: refused on sight
        await empty.write(Uint8Array.of(0, 0, 0, 0));
        await waitUntil(() => big.closed && empty.closed, 10_000, () => `closed: oversized ${big.closed}, zero-length ${empty.closed}`);
        await good.write(chatFrame(1, 0, 0, maxFrameBytes)); // exactly the maximum passes
        await waitUntil(() => other.frames === 1 && good.frames === 1, 10_000, () => `after the bad frames, the others received ${other.frames} and ${good.frames}`);
        assert.equal(good.closed || other.closed, false);
        // A newcomer is served too.
        const late = await ChatClient.open(port);
        clients.push(late);
        await joinRoom(good, [late]);
      } finally {
        for (const c of clients) c.close();
      }
    });
    assert.equal(counted.oversized, 1, "oversized frames counted");
    assert.equal(counted.malformed, 1, "zero-length frames counted");
  });

  test("a client that stops reading is dropped; the others get every frame meanwhile", { timeout: CASE_TIMEOUT_MS }, async () => {
    const cap = 32 * 1024;
    const clients: ChatClient[] = [];
    const counted = await withChatServer(model, { bufferBytes: cap, maxFrameBytes: 2048 }, async (port) => {
      try {
        for (let i = 0; i < 4; i++) clients.push(await ChatClient.open(port));
        const [sender, ...rest] = clients as [ChatClient, ...ChatClient[]];
        const stalled = rest.pop()!;
        await joinRoom(sender, clients);
        stalled.socket.pause(); // reads nothing from now on
        // 16 KiB at a time, each batch received by every reading client before
        // the next: they never fall behind by the cap, the stalled one does.
        const frameBytes = 1024;
        const batch = 16;
        const batches = 320; // 5 MiB: far past what the kernel buffers for the stalled client
        let seq = 0;
        const readers = [sender, ...rest];
        for (let b = 0; b < batches; b++) {
          for (let i = 0; i < batch; i++) await sender.write(chatFrame(7, seq++, 0, frameBytes));
          await waitUntil(() => readers.every((c) => c.frames === seq), 10_000, () => `batch ${b}: readers got ${readers.map((c) => c.frames).join(", ")} of ${seq}`);
        }
        for (const c of readers) {
          assert.equal(c.order.violations + c.broken, 0);
          assert.equal(c.closed, false, "a reading client was dropped");
        }
      } finally {
        for (const c of clients) c.close();
      }
    });
    assert.equal(counted.slowDropped, 1, "the stalled client was dropped, and only it");
  });
}

describe("chat: every model", { concurrency: MODELS_AT_ONCE }, () => {
  for (const m of MODELS) describe(m.name, { concurrency: 1 }, () => chatCases(m.name));
});
