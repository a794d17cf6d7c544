/**
 * The chat-fanout load client (clients/chat-client.ts) against a real chat
 * server, and against a room server that loses and repeats frames: the
 * client must see a clean room as clean and a faulty one as faulty.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ChatLoadClient, checkChatOptions } from "../clients/chat-client.js";
import { FrameReader } from "../protocol/chat.js";
import { startServerProcess } from "./conformance/server.js";

const OPTIONS = { host: "127.0.0.1", members: 6, senders: 2, rateHz: 200, payloadBytes: 64, timeoutMs: 3_000 };

async function measure(port: number, ms: number): Promise<Awaited<ReturnType<ChatLoadClient["finish"]>>> {
  const client = await ChatLoadClient.start({ ...OPTIONS, port });
  try {
    client.beginMeasure();
    await new Promise((r) => setTimeout(r, ms));
    client.endMeasure();
    return await client.finish();
  } finally {
    await client.stop();
  }
}

test("chat client: a real chat server delivers every frame to every member, in order", { timeout: 30_000 }, async () => {
  const server = await startServerProcess({ model: "epoll", threads: 2, protocol: "chat" });
  try {
    const m = await measure(server.port, 500);
    assert.ok(m.chat.framesSent > 50, `only ${m.chat.framesSent} frames sent`);
    assert.equal(m.chat.missing, 0);
    assert.equal(m.chat.outOfOrder + m.chat.broken + m.chat.membersClosed, 0);
    assert.equal(m.chat.deliveriesReceived, m.chat.deliveriesExpected);
    assert.equal(m.chat.deliveriesExpected, m.chat.framesSent * OPTIONS.members);
    assert.ok(m.messages > 0 && m.latencyUs.totalCount === m.messages, "deliveries in the window are timed");
    assert.equal(m.errorsTotal.mismatch, 0);
  } finally {
    await server.stop();
  }
});

/** A room server that relays frames but drops every 7th and sends every 11th twice. */
function faultyRoom(): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  let n = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    const reader = new FrameReader(1024);
    s.on("data", (chunk: Buffer) =>
      reader.push(chunk, 0, chunk.length, (view) => {
        const frame = Buffer.from(view);
        n++;
        if (frame.readUInt32BE(4) === 0xffffffff) n = 0; // join probes pass untouched
        else if (n % 7 === 0) return;
        for (const t of sockets) t.write(frame);
        if (n % 11 === 0) for (const t of sockets) t.write(frame);
      }),
    );
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ port, close: () => { for (const s of sockets) s.destroy(); server.close(); } });
    }),
  );
}

test("chat client: lost and repeated frames are counted as missing and out of order", { timeout: 30_000 }, async () => {
  const room = await faultyRoom();
  try {
    const m = await measure(room.port, 300);
    assert.ok(m.chat.missing > 0, "lost frames not counted");
    assert.ok(m.chat.outOfOrder > 0, "repeats and gaps not counted");
    assert.ok(m.errorsTotal.mismatch >= m.chat.missing + m.chat.outOfOrder);
  } finally {
    room.close();
  }
});

test("chat client: options it cannot run with are refused in one line", () => {
  const o = { ...OPTIONS, port: 1 };
  assert.throws(() => checkChatOptions({ ...o, senders: 7 }), /senders must be 1\.\.6/);
  assert.throws(() => checkChatOptions({ ...o, payloadBytes: 8 }), /at least 16 bytes/);
  assert.throws(() => checkChatOptions({ ...o, rateHz: 0 }), /rate must be > 0/);
});
