/**
 * The check every protocol has: a client that writes and never reads must
 * cost the others nothing. It writes until the server stops taking bytes
 * (the server must stop reading it, not buffer without bound), then another
 * client must be served, and the server's memory, when known, must have
 * grown by less than MEMORY_BOUND.
 */
import { closeSocket, connect, untilSteady } from "./net.js";
import { expect, memoryChange, type ConformContext } from "./suite.js";

const MiB = 1024 * 1024;
/** The most a server's memory may grow while one client floods it. */
const MEMORY_BOUND = 32 * MiB;

/** Floods with `chunks` × `chunk`, then runs `served` beside it; resolves with what was seen. */
export async function floodBeside(ctx: ConformContext, chunk: Buffer, chunks: number, served: () => Promise<void>, what: string): Promise<string> {
  const before = ctx.serverRssBytes?.();
  const flooder = await connect(ctx.target);
  try {
    flooder.pause();
    for (let i = 0; i < chunks; i++) flooder.write(chunk);
    const taken = await untilSteady(() => flooder.bytesWritten - flooder.writableLength);
    const t0 = performance.now();
    await served();
    const ms = performance.now() - t0;
    const after = ctx.serverRssBytes?.();
    let memory = "server memory not known";
    if (before !== undefined && after !== undefined) {
      const grown = after - before;
      expect(grown < MEMORY_BOUND, () => `server memory grew by ${(grown / MiB).toFixed(1)} MiB while a client pushed ${(taken / MiB).toFixed(1)} MiB of ${what} without reading`);
      memory = memoryChange(before, after);
    }
    return `the server stopped taking at ${(taken / MiB).toFixed(1)} MiB; another client served in ${ms.toFixed(0)} ms; ${memory}`;
  } finally {
    await closeSocket(flooder);
  }
}
