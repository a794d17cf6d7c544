/**
 * The raw chat protocol's checks (protocol/chat-raw.ts, the book's chat):
 * each member's bytes reach every member, the sender included, unchanged
 * and in order; members come and go; one that stops reading is dropped
 * while the others get everything. Raw relay has no message boundaries, so
 * members take turns: with one sender at a time the bytes cannot splice.
 */
import type net from "node:net";
import { waitUntil } from "./chat-client.js";
import { closeSocket, connect, firstDifference, pattern, type Target } from "./net.js";
import { expect, type Check } from "./suite.js";

/** A member: everything it received, in order. */
class RawMember {
  private readonly chunks: Buffer[] = [];
  received = 0;
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.length;
    });
    socket.on("close", () => (this.closed = true));
  }

  static async open(target: Target): Promise<RawMember> {
    return new RawMember(await connect(target));
  }

  /** Everything received from byte `from` on. */
  since(from: number): Buffer {
    return Buffer.concat(this.chunks).subarray(from);
  }
}

async function until(done: () => boolean, what: () => string): Promise<void> {
  try {
    await waitUntil(done, 10_000, what);
  } catch (err) {
    expect(false, () => (err instanceof Error ? err.message : String(err)));
  }
}

/** `from` sends `bytes`; every member of `room` must receive exactly them next. */
async function relayed(room: RawMember[], from: number, bytes: Buffer, what: string): Promise<void> {
  const marks = room.map((m) => m.received);
  room[from]!.socket.write(bytes);
  await until(
    () => room.every((m, i) => m.received >= marks[i]! + bytes.length || m.closed),
    () => `${what}: members received ${room.map((m, i) => m.received - marks[i]!).join(", ")} of ${bytes.length} bytes`,
  );
  for (const [i, m] of room.entries()) {
    expect(!m.closed, () => `${what}: member ${i} was closed`);
    const got = m.since(marks[i]!);
    expect(got.length === bytes.length, () => `${what}: member ${i} received ${got.length} bytes, not ${bytes.length}`);
    const at = firstDifference(got, bytes);
    expect(at === -1, () => `${what}: member ${i} received different bytes from byte ${at} on`);
  }
}

/** Opens `n` members and returns once each heard every member's hello (so all are in the room). */
async function room(target: Target, n: number): Promise<RawMember[]> {
  const members: RawMember[] = [];
  try {
    for (let i = 0; i < n; i++) members.push(await RawMember.open(target));
    for (let i = 0; i < n; i++) {
      // A member joins when the server's thread gets to it: repeat a hello until all heard it.
      const hello = Buffer.from(`hello from ${i}\n`);
      const marks = members.map((m) => m.received);
      const deadline = Date.now() + 10_000;
      while (members.some((m, j) => m.received < marks[j]! + hello.length)) {
        expect(Date.now() < deadline, () => `member ${i}'s hello did not reach every member within 10 s`);
        members[i]!.socket.write(hello);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // Let repeated hellos drain before the check counts bytes.
    await new Promise((r) => setTimeout(r, 100));
    return members;
  } catch (err) {
    for (const m of members) m.socket.destroy();
    throw err;
  }
}

const relay: Check = {
  id: "raw-relay",
  title: "each member's bytes reach every member, the sender too, unchanged and in order",
  async run({ target }) {
    const members = await room(target, 3);
    try {
      for (let turn = 0; turn < 30; turn++) {
        const from = turn % members.length;
        await relayed(members, from, Buffer.from(`[member ${from}] line ${turn}: ${"x".repeat(turn * 3)}\n`), `line ${turn} from member ${from}`);
      }
      // Less than a member's output cap (64 KiB by default): a bigger burst may rightly drop a reader that lags.
      await relayed(members, 1, pattern(32 * 1024, 3), "32 KiB in one write");
      return "30 lines in turn and 32 KiB in one write reached all 3 members, the sender included, unchanged";
    } finally {
      await Promise.all(members.map((m) => closeSocket(m.socket)));
    }
  },
};

const comings: Check = {
  id: "raw-join-leave",
  title: "members leave and join; the room goes on",
  async run({ target }) {
    const members = await room(target, 3);
    try {
      await closeSocket(members.pop()!.socket);
      members[0]!.socket.resetAndDestroy();
      members.shift();
      // room() returns once the newcomer heard its own hello: it is a member.
      members.push(...(await room(target, 1)));
      await relayed(members, 0, Buffer.from("after some left and one joined\n"), "after the room changed");
      await relayed(members, 1, Buffer.from("and back\n"), "the newcomer speaking");
      return "after one member closed and one reset, the two left and a newcomer relayed to each other";
    } finally {
      await Promise.all(members.map((m) => closeSocket(m.socket)));
    }
  },
};

const nonReader: Check = {
  id: "raw-non-reader",
  title: "a member that stops reading is dropped; the others get every byte meanwhile",
  async run({ target }) {
    const members = await room(target, 3);
    try {
      const stalled = members.pop()!;
      stalled.socket.pause();
      const chunk = pattern(16 * 1024, 5);
      let sent = 0;
      for (let i = 0; i < 320; i++) {
        await relayed(members, 0, chunk, `chunk ${i}`);
        sent += chunk.length;
      }
      const had = stalled.received;
      stalled.socket.resume();
      await until(() => stalled.closed || stalled.received - had >= sent, () => `the member that stopped reading received ${stalled.received - had} of ${sent} bytes and was not closed`);
      expect(stalled.closed && stalled.received - had < sent, () => `the member that stopped reading was never dropped: it received all ${sent} bytes once it read again`);
      return `${(sent / 1024 / 1024).toFixed(0)} MiB reached both reading members; the stalled one was dropped`;
    } finally {
      await Promise.all(members.map((m) => closeSocket(m.socket)));
    }
  },
};

export const CHAT_RAW_CHECKS: readonly Check[] = [relay, comings, nonReader];
