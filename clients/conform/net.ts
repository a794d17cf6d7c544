/**
 * Small, independent clients for the conformance checks: plain `net`
 * sockets, every wait bounded by a timer, every byte compared. They share
 * no code with iobench's load client, so a bug there cannot hide one in a
 * server (or the other way round).
 */
import net from "node:net";

/** The server under check. */
export interface Target {
  host: string;
  port: number;
}

/** Bytes whose value depends on their position, so a lost, doubled or reordered chunk shows. */
export function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8) * 7 + seed) & 0xff;
  return b;
}

/** Where two buffers first differ; -1 if equal. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** "" when `got` is `sent`, else what differs, in words. */
export function echoDifference(got: Buffer, sent: Buffer): string {
  const at = firstDifference(got, sent);
  if (at === -1) return "";
  if (at === got.length) return `${got.length} of ${sent.length} bytes came back`;
  return `the echo of ${sent.length} bytes differs at byte ${at} (got ${got.length} bytes)`;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Connects to the target. The socket keeps a no-op "error" listener so a
 * reset the check provoked never throws; the helpers below watch errors
 * themselves.
 */
export function connect(target: Target, timeoutMs = 5_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: target.port, host: target.host });
    socket.on("error", () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${target.host}:${target.port} timed out after ${timeoutMs} ms`));
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
    const onError = (err: Error): void => finish(new Error(`${err.message} after ${got} of ${count === Infinity ? "all" : count} bytes`));
    const expected = count === Infinity ? "no close from the server" : `${got} of ${count} bytes`;
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms with ${count === Infinity ? `${got} bytes and ${expected}` : `${got} of ${count} bytes`}`)), timeoutMs);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onClose);
    socket.once("error", onError);
    socket.resume();
  });
}

/**
 * Reads until `count` bytes have arrived, the server closed or reset, or
 * nothing came for idleMs; resolves with what came, never rejects (the
 * caller compares it with what it expected).
 */
export function readUpTo(socket: net.Socket, count: number, idleMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    let timer = setTimeout(() => finish(), idleMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", finish);
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      got += chunk.length;
      clearTimeout(timer);
      if (got >= count) return finish();
      timer = setTimeout(() => finish(), idleMs);
    };
    socket.on("data", onData);
    socket.once("close", finish);
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
export async function session(target: Target, trips: number, size: number, timeoutMs: number, seed = 1): Promise<void> {
  const socket = await connect(target, timeoutMs);
  try {
    for (let i = 0; i < trips; i++) {
      const data = pattern(size, seed + i);
      const wrong = echoDifference(await roundTrip(socket, data, timeoutMs), data);
      if (wrong !== "") throw new Error(wrong);
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

/** Writes `data` in pieces cut at pseudo-random points (1 .. maxPiece bytes), each once the socket took the last. */
export async function writeInPieces(socket: net.Socket, data: Uint8Array, seed: number, maxPiece = 700): Promise<void> {
  let at = 0;
  let x = seed | 1;
  while (at < data.length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const n = Math.min(data.length - at, 1 + ((x >>> 0) % maxPiece));
    await new Promise<void>((resolve, reject) => socket.write(data.subarray(at, at + n), (err) => (err ? reject(err) : resolve())));
    // A turn of this process's event loop, so reads are handled between pieces.
    await new Promise((resolve) => setImmediate(resolve));
    at += n;
  }
}

/** How many bytes a paused writer's peer has taken, polled until it stops growing (the server stopped reading). */
export async function untilSteady(taken: () => number, pollMs = 100, polls = 50): Promise<number> {
  let last = -1;
  let steady = 0;
  for (let i = 0; i < polls && steady < 3; i++) {
    await delay(pollMs);
    steady = taken() === last ? steady + 1 : 0;
    last = taken();
  }
  return last;
}
