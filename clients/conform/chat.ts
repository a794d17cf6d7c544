/**
 * The framed chat protocol's checks (protocol/chat.ts): every frame reaches
 * every member exactly once, whole, in per-sender order; a bad frame closes
 * its sender's connection only; a member that stops reading is dropped and
 * costs the others nothing.
 */
import { chatFrame } from "../chat-message.js";
import { ChatClient, joinRoom, waitUntil } from "./chat-client.js";
import { writeInPieces } from "./net.js";
import { expect, memoryChange, type Check, type ConformContext } from "./suite.js";

/** Opens `n` members and waits until the room has them all. */
async function room(ctx: ConformContext, n: number): Promise<ChatClient[]> {
  const clients: ChatClient[] = [];
  try {
    for (let i = 0; i < n; i++) clients.push(await ChatClient.open(ctx.target, Math.max(64 * 1024, ctx.maxFrameBytes)));
    await joinRoom(clients[0]!, clients);
    return clients;
  } catch (err) {
    for (const c of clients) c.close();
    throw err;
  }
}

/** waitUntil, failing the check (not erroring) when it times out. */
async function until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  try {
    await waitUntil(done, timeoutMs, what);
  } catch (err) {
    expect(false, () => (err instanceof Error ? err.message : String(err)));
  }
}

const delivery: Check = {
  id: "chat-delivery",
  title: "every frame reaches every member exactly once, whole, in per-sender order",
  async run(ctx) {
    const clients = await room(ctx, 6);
    try {
      const senders = clients.slice(0, 3);
      const perSender = 150;
      const burst = 3;
      const total = senders.length * perSender;
      const largest = Math.min(6000, ctx.maxFrameBytes);
      // In rounds: the senders write a burst each at once, their frames cut
      // at odd points, then wait for every member to have it all. Unpaced, a
      // sender could outrun the readers (they share this process) and the
      // server would rightly drop them.
      for (let seq = 0; seq < perSender; seq += burst) {
        await Promise.all(
          senders.map(async (c, s) => {
            for (let q = seq; q < seq + burst; q++) await writeInPieces(c.socket, chatFrame(s, q, 0, 16 + ((q * 997 + s * 131) % (largest - 15))), q * 31 + s);
          }),
        );
        const sent = senders.length * (seq + burst);
        await until(() => clients.every((c) => c.frames >= sent || c.closed), 10_000, () => `frames received: ${clients.map((c) => c.frames).join(", ")} of ${sent}`);
        const bad = clients.findIndex((c) => c.broken + c.order.violations + c.order.skipped > 0 || c.closed);
        if (bad !== -1) break;
      }
      await new Promise((r) => setTimeout(r, 100)); // a duplicate would arrive now
      for (const [i, c] of clients.entries()) {
        expect(c.broken === 0, () => `member ${i} received ${c.broken} frame(s) that were not whole`);
        expect(c.order.violations + c.order.skipped === 0, () => `member ${i} received frames out of per-sender order (${c.order.violations} went back, ${c.order.skipped} jumped over)`);
        expect(!c.closed, () => `member ${i} was closed by the server`);
        expect(c.frames === total, () => `member ${i} received ${c.frames} frames, not ${total}`);
        for (let s = 0; s < senders.length; s++) expect(c.order.received(s) === perSender, () => `member ${i} received ${c.order.received(s)} of sender ${s}'s ${perSender} frames`);
      }
      return `${total} frames from 3 senders (16 B to ${largest} B, written in pieces) reached 6 members once, whole, in order`;
    } finally {
      for (const c of clients) c.close();
    }
  },
};

/** A frame whose header alone is bad must close that connection; `good` frames still reach the others. */
async function refusesFrame(ctx: ConformContext, header: Uint8Array, what: string): Promise<string> {
  const clients = await room(ctx, 3);
  try {
    const [good, other, bad] = clients as [ChatClient, ChatClient, ChatClient];
    await bad.write(header);
    await until(() => bad.closed, 10_000, () => `the connection that sent ${what} was not closed`);
    await good.write(chatFrame(1, 0, 0, ctx.maxFrameBytes)); // exactly the largest passes
    await until(() => other.frames === 1 && good.frames === 1, 10_000, () => `after ${what}, a frame of exactly ${ctx.maxFrameBytes} B reached ${other.frames + good.frames} of 2 members`);
    expect(!good.closed && !other.closed, () => `a member that sent nothing wrong was closed after ${what}`);
    const late = await ChatClient.open(ctx.target, Math.max(64 * 1024, ctx.maxFrameBytes));
    clients.push(late);
    await joinRoom(good, [late]);
    return `${what} closed its sender; a largest frame (${ctx.maxFrameBytes} B) still reached the others; a newcomer joined`;
  } finally {
    for (const c of clients) c.close();
  }
}

const oversized: Check = {
  id: "chat-oversized",
  title: "a frame over the largest closes its sender only",
  run: (ctx) => {
    const n = ctx.maxFrameBytes + 1;
    return refusesFrame(ctx, Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff), `a header announcing ${n} B`);
  },
};

const malformed: Check = {
  id: "chat-malformed",
  title: "a zero-length frame closes its sender only",
  run: (ctx) => refusesFrame(ctx, Uint8Array.of(0, 0, 0, 0), "a zero-length frame"),
};

const nonReader: Check = {
  id: "chat-non-reader",
  title: "a member that stops reading is dropped; the others get every frame meanwhile",
  async run(ctx) {
    const clients = await room(ctx, 4);
    try {
      const [sender, ...rest] = clients as [ChatClient, ...ChatClient[]];
      const stalled = rest.pop()!;
      stalled.socket.pause(); // reads nothing from now on
      // 16 KiB at a time, each batch received by every reading member before
      // the next: they never fall behind, the stalled one does.
      const frameBytes = Math.min(1024, ctx.maxFrameBytes);
      const batch = 16;
      const frames = Math.ceil((5 * 1024 * 1024) / frameBytes); // far past what the kernel buffers for one socket
      const readers = [sender, ...rest];
      let seq = 0;
      const before = ctx.serverRssBytes?.();
      while (seq < frames) {
        for (let i = 0; i < batch; i++) await sender.write(chatFrame(7, seq++, 0, frameBytes));
        await until(() => readers.every((c) => c.frames === seq || c.closed), 10_000, () => `readers got ${readers.map((c) => c.frames).join(", ")} of ${seq} frames beside a member that does not read`);
        expect(!readers.some((c) => c.closed), () => `a reading member was closed after ${seq} frames`);
      }
      const after = ctx.serverRssBytes?.();
      for (const c of readers) expect(c.order.violations + c.order.skipped + c.broken === 0, () => "a reading member received frames broken or out of order");
      // Now it reads: a dropped member sees the server's close before the last frame.
      stalled.socket.resume();
      await until(() => stalled.closed || stalled.frames === seq, 10_000, () => `the member that stopped reading received ${stalled.frames} of ${seq} frames and was not closed`);
      expect(stalled.closed && stalled.frames < seq, () => `the member that stopped reading was never dropped: it received all ${seq} frames once it read again (the server held them all for it)`);
      let memory = "";
      if (before !== undefined && after !== undefined) memory = `; ${memoryChange(before, after)}`;
      return `${seq} frames (${((seq * frameBytes) / 1024 / 1024).toFixed(0)} MiB) reached every reading member; the stalled one was dropped after ${stalled.frames}${memory}`;
    } finally {
      for (const c of clients) c.close();
    }
  },
};

export const CHAT_CHECKS: readonly Check[] = [delivery, oversized, malformed, nonReader];
