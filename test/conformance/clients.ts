/**
 * Small, independent echo clients for the conformance tests: plain `net`
 * sockets, every wait bounded by a timer, every byte compared. They share
 * no code with iobench's own client, so a bug there cannot hide one in a
 * server (or the other way round).
 */
import net from "node:net";

/** Bytes whose value depends on their position, so a lost, doubled or reordered chunk shows. */
export function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8) * 7 + seed) & 0xff;
  return b;
}

/** Where two buffers first differ, for assertion messages; -1 if equal. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Connects to 127.0.0.1:port. The socket keeps a no-op "error" listener so
 * a reset the test provoked never throws; the helpers below watch errors
 * themselves.
 */
export function connect(port: number, timeoutMs = 5_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.on("error", () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to port ${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", fail);
      resolve(socket);
    });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once("error", fail);
  });
}

/**
 * Reads until `count` bytes have arrived (or, with count = Infinity, until
 * the server closes), within timeoutMs. Rejects on error, timeout, or a
 * close before `count` bytes.
 */
export function readBytes(socket: net.Socket, count: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onClose);
      socket.off("error", onError);
      socket.pause();
      if (err === undefined) resolve(Buffer.concat(chunks));
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= count) finish();
    };
    const onEnd = (): void => {
      if (count === Infinity) finish();
      else finish(new Error(`the server closed after ${got} of ${count} bytes`));
    };
    const onClose = (): void => onEnd();
    const onError = (err: Error): void => finish(new Error(`${err.message} after ${got} of ${count} bytes`));
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms with ${got} of ${count} bytes`)), timeoutMs);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onClose);
    socket.once("error", onError);
    socket.resume();
  });
}

/** Sends `data` in one write and resolves with exactly what came back (length data.length). */
export async function roundTrip(socket: net.Socket, data: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  const reply = readBytes(socket, data.length, timeoutMs);
  socket.write(data);
  return reply;
}

/** One short session: connect, `trips` round trips of `size` bytes, close. Throws on any mismatch. */
export async function session(port: number, trips: number, size: number, timeoutMs: number, seed = 1): Promise<void> {
  const socket = await connect(port, timeoutMs);
  try {
    for (let i = 0; i < trips; i++) {
      const data = pattern(size, seed + i);
      const reply = await roundTrip(socket, data, timeoutMs);
      const at = firstDifference(reply, data);
      if (at !== -1) throw new Error(`echo differs at byte ${at} of ${data.length}`);
    }
  } finally {
    socket.destroy();
  }
}

/** Closes a socket and waits (bounded) until it is closed. */
export function closeSocket(socket: net.Socket, timeoutMs = 2_000): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.destroy();
  });
}
