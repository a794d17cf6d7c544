/**
 * Chat conformance (--protocol chat): the SAME cases for every model of
 * servers/models.ts, each against its own server process (2 threads, or
 * blocking's thread per connection, so frames must cross threads), with
 * the checks of `iobench conform --protocol chat` (clients/conform/chat.ts)
 * and the counts the server reports when it stops:
 * - every frame reaches every client exactly once, whole, in per-sender order;
 * - an oversized or zero-length frame closes that connection (counted) and
 *   the server carries on;
 * - a client that stops reading is dropped (counted) while the others get
 *   every frame.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MODELS } from "../servers/models.js";
import { CHAT_CHECKS } from "../clients/conform/chat.js";
import { CHAT_RAW_CHECKS } from "../clients/conform/chat-raw.js";
import { runCheck, type Check } from "../clients/conform/suite.js";
import { DEFAULT_MAX_FRAME_BYTES } from "../contracts/server.js";
import { conformContext, startCountingServer, type ServerProcess } from "./conformance/server.js";

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
async function withChatServer(model: string, extra: Record<string, unknown>, body: (server: ServerProcess) => Promise<void>): Promise<Counted> {
  const { server, stopped } = await chatServer(model, extra);
  try {
    await body(server);
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

/** Server options for a check, and what the server must have counted after it. */
type Case = { extra: Record<string, unknown>; counted: (c: Counted) => void };

const CASES: Record<string, Case> = {
  "chat-delivery": {
    extra: {},
    counted: (c) => {
      assert.ok(c.frames >= 450, `the server counted ${c.frames} frames`);
      assert.equal(c.oversized + c.malformed + c.slowDropped, 0);
    },
  },
  "chat-oversized": { extra: { maxFrameBytes: 1024 }, counted: (c) => assert.deepEqual([c.oversized, c.malformed], [1, 0], "oversized frames counted") },
  "chat-malformed": { extra: { maxFrameBytes: 1024 }, counted: (c) => assert.deepEqual([c.oversized, c.malformed], [0, 1], "zero-length frames counted") },
  "chat-non-reader": { extra: { bufferBytes: 32 * 1024, maxFrameBytes: 2048 }, counted: (c) => assert.equal(c.slowDropped, 1, "the stalled client was dropped, and only it") },
};

/** chat-raw counts each read it relays as a "frame"; nothing is oversized or malformed there. */
const RAW: Case = { extra: { protocol: "chat-raw" }, counted: (c) => assert.deepEqual([c.oversized, c.malformed, c.slowDropped], [0, 0, 0]) };
const RAW_CASES: Record<string, Case> = {
  "raw-relay": RAW,
  "raw-join-leave": RAW,
  "raw-non-reader": { extra: { protocol: "chat-raw", bufferBytes: 32 * 1024 }, counted: (c) => assert.equal(c.slowDropped, 1, "the stalled member was dropped, and only it") },
};

/** The checks of `iobench conform --protocol chat` or chat-raw (clients/conform/), and the server's own counts after each. */
function chatCases(model: string, checks: readonly Check[], cases: Record<string, Case>): void {
  for (const check of checks) {
    const { extra, counted } = cases[check.id]!;
    test(`${check.id}: ${check.title}`, { timeout: CASE_TIMEOUT_MS }, async () => {
      const counts = await withChatServer(model, extra, async (server) => {
        const result = await runCheck(check, conformContext(server, (extra.maxFrameBytes as number | undefined) ?? DEFAULT_MAX_FRAME_BYTES));
        assert.ok(result.ok, result.detail);
      });
      counted(counts);
    });
  }
}

test("every chat check has its server options", () => {
  assert.deepEqual(Object.keys(CASES).sort(), CHAT_CHECKS.map((c) => c.id).sort());
  assert.deepEqual(Object.keys(RAW_CASES).sort(), CHAT_RAW_CHECKS.map((c) => c.id).sort());
});

describe("chat: every model", { concurrency: MODELS_AT_ONCE }, () => {
  for (const m of MODELS) describe(m.name, { concurrency: 1 }, () => chatCases(m.name, CHAT_CHECKS, CASES));
});

describe("chat-raw (the book's relay): every model", { concurrency: MODELS_AT_ONCE }, () => {
  for (const m of MODELS) describe(m.name, { concurrency: 1 }, () => chatCases(m.name, CHAT_RAW_CHECKS, RAW_CASES));
});
