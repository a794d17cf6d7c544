/**
 * The echo protocol's checks (the seeds' protocol: every byte received is
 * sent back, in order). What they try to break: reassembly across partial
 * reads and writes on both sides, many sessions at once, resets and
 * half-close mid-message, a client that never reads, a burst of connects.
 */
import type net from "node:net";
import { closeSocket, connect, delay, echoDifference, pattern, readBytes, readUpTo, roundTrip, session, untilSteady, writeInPieces, type Target } from "./net.js";
import { floodBeside } from "./flood.js";
import { expect, type Check } from "./suite.js";

const KiB = 1024;
const MiB = 1024 * KiB;

function sizeText(bytes: number): string {
  if (bytes >= MiB) return `${bytes / MiB} MiB`;
  if (bytes >= KiB) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** A round trip on `socket` whose echo must equal `data`. */
async function echoed(socket: net.Socket, data: Buffer, what: string, timeoutMs = 10_000): Promise<void> {
  const wrong = echoDifference(await roundTrip(socket, data, timeoutMs), data);
  expect(wrong === "", () => `${what}: ${wrong}`);
}

/** A new session of 3 round trips: the server still serves. */
async function stillServes(target: Target, size: number, what: string): Promise<void> {
  try {
    await session(target, 3, size, 10_000);
  } catch (err) {
    expect(false, () => `${what}: a new session failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const sizes: Check = {
  id: "sizes",
  title: "echoes 1 B to 1 MiB, each sent in one write, twice on one connection",
  async run({ target }) {
    const all = [1, 100, 64 * KiB, MiB];
    for (const size of all) {
      const socket = await connect(target);
      try {
        const data = pattern(size, size);
        await echoed(socket, data, sizeText(size));
        await echoed(socket, data, `${sizeText(size)}, second time`);
      } finally {
        await closeSocket(socket);
      }
    }
    return `${all.map(sizeText).join(", ")} echoed whole, twice each`;
  },
};

const partialWrites: Check = {
  id: "partial-writes",
  title: "reassembles messages the client writes in pieces of 1 to 700 bytes",
  async run({ target }) {
    const all = [1000, 64 * KiB, 256 * KiB];
    const socket = await connect(target);
    try {
      for (const [i, size] of all.entries()) {
        const data = pattern(size, 7 + i);
        const reply = readBytes(socket, size, 15_000);
        await writeInPieces(socket, data, 11 + i);
        const wrong = echoDifference(await reply, data);
        expect(wrong === "", () => `${sizeText(size)} written in pieces: ${wrong}`);
      }
    } finally {
      await closeSocket(socket);
    }
    return `${all.map(sizeText).join(", ")} written in pieces, echoed whole`;
  },
};

/**
 * The client sends 16 MiB (more than loopback's socket buffers hold both
 * ways) and reads nothing until the server stops taking bytes (its sends
 * are then short or would block), then reads in stops and starts, so the
 * server's writes keep coming back partial.
 */
const partialReads: Check = {
  id: "partial-reads",
  title: "echoes every byte when its sends are cut short by a slow reader",
  async run({ target }) {
    const size = 16 * MiB;
    const data = pattern(size, 5);
    const socket = await connect(target);
    let toggler: NodeJS.Timeout | undefined;
    try {
      socket.pause();
      // In 64 KiB writes, so what the server took can be told from what waits here.
      for (let at = 0; at < size; at += 64 * KiB) socket.write(data.subarray(at, at + 64 * KiB));
      const taken = await untilSteady(() => socket.bytesWritten - socket.writableLength, 50, 40);
      // A server that lost bytes never sends the last ones: stop waiting 2 s after the last that came.
      const reply = readUpTo(socket, size, 2_000);
      // Read in stops and starts: 5 ms reading, 5 ms not.
      let reading = true;
      toggler = setInterval(() => {
        reading = !reading;
        if (reading) socket.resume();
        else socket.pause();
      }, 5);
      const got = await reply;
      const wrong = echoDifference(got, data);
      expect(wrong === "", () => `${wrong} (the server had taken ${sizeText(taken)} before the client started reading)`);
      return `${sizeText(size)} echoed whole to a reader that paused (the server stopped at ${(taken / MiB).toFixed(1)} MiB taken)`;
    } finally {
      clearInterval(toggler);
      await closeSocket(socket);
    }
  },
};

const manySessions: Check = {
  id: "sessions-1000",
  title: "serves 1,000 concurrent sessions of 3 round trips",
  async run({ target }) {
    const results = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => session(target, 3, 100, 40_000, i)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failed.length === 0, () => `${failed.length} of 1000 sessions failed; the first: ${failed[0]?.reason instanceof Error ? failed[0].reason.message : String(failed[0]?.reason)}`);
    return "1000 sessions × 3 round trips of 100 B, all echoed";
  },
};

const resets: Check = {
  id: "resets",
  title: "survives resets mid-message and while blocked sending, then serves",
  async run({ target }) {
    const victims: net.Socket[] = [];
    try {
      // Reset while the server is reading a message...
      for (let i = 0; i < 20; i++) {
        const s = await connect(target);
        s.write(pattern(48 * KiB, i));
        victims.push(s);
      }
      // ...and while it is blocked sending an echo nobody reads.
      for (let i = 0; i < 10; i++) {
        const s = await connect(target);
        s.pause();
        s.write(pattern(MiB, i));
        victims.push(s);
      }
      await delay(150);
      for (const s of victims) s.resetAndDestroy();
    } finally {
      for (const s of victims) s.destroy();
    }
    await delay(150);
    await stillServes(target, 64 * KiB, "after 30 resets");
    return "30 connections reset mid-message, the next session echoed";
  },
};

const halfClose: Check = {
  id: "half-close",
  title: "after the client's FIN, echoes every byte, then closes",
  timeoutMs: 30_000,
  async run({ target }) {
    for (const size of [100, 256 * KiB]) {
      const socket = await connect(target);
      try {
        const data = pattern(size, 3);
        const everything = readBytes(socket, Infinity, 3_000); // resolves at the server's FIN
        socket.end(data);
        let got: Buffer;
        try {
          got = await everything;
        } catch (err) {
          expect(false, () => `${sizeText(size)} then FIN: ${err instanceof Error ? err.message : String(err)}`);
        }
        const wrong = echoDifference(got, data);
        expect(wrong === "", () => `${sizeText(size)} then FIN: ${wrong}`);
      } finally {
        await closeSocket(socket);
      }
    }
    return "100 B and 256 KiB then FIN: every byte back, then the server's FIN";
  },
};

const nonReader: Check = {
  id: "non-reader",
  title: "a client that sends 64 MiB and never reads costs the others nothing",
  async run(ctx) {
    await session(ctx.target, 2, MiB, 10_000); // every code path warm before the baseline
    return floodBeside(ctx, pattern(MiB, 9), 64, () => stillServes(ctx.target, 64 * KiB, "beside a client that never reads"), "echo");
  },
};

/** 2,000 connects, 250 in flight, each closed at once (every other one with a reset), then sessions are served. */
const connectStorm: Check = {
  id: "connect-storm",
  title: "takes 2,000 connects in a burst and serves after",
  async run({ target }) {
    const total = 2000;
    const inFlight = 250;
    let next = 0;
    let failed = 0;
    let firstError = "";
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        try {
          const s = await connect(target, 10_000);
          if (i % 2 === 0) s.resetAndDestroy();
          else s.destroy();
        } catch (err) {
          failed++;
          firstError ||= err instanceof Error ? err.message : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const sec = (performance.now() - t0) / 1000;
    expect(failed === 0, () => `${failed} of ${total} connects failed; the first: ${firstError}`);
    const after = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => session(target, 2, 100, 10_000, i)));
    const lost = after.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(lost.length === 0, () => `after the storm, ${lost.length} of 50 sessions failed; the first: ${String(lost[0]?.reason instanceof Error ? lost[0].reason.message : lost[0]?.reason)}`);
    return `${total} connects in ${sec.toFixed(1)} s (${Math.round(total / sec)}/s), then 50 sessions served`;
  },
};

export const ECHO_CHECKS: readonly Check[] = [sizes, partialWrites, partialReads, manySessions, resets, halfClose, nonReader, connectStorm];
