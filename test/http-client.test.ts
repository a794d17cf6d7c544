/**
 * The client's http session mode against a real model speaking http, and
 * against a server whose answers are wrong (every kind must be counted).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { LoadClient } from "../clients/client.js";
import type { ClientMeasurement, ClientOptions } from "../contracts/client.js";
import { startServer } from "../servers/start.js";
import { DEFAULT_SERVER_OPTIONS } from "../contracts/server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(port: number, over: Partial<ClientOptions>): Promise<ClientMeasurement> {
  const client = await LoadClient.start({
    host: "127.0.0.1", port, sessions: 8, sizeBytes: 300, clientThreads: 1, timeoutMs: 2000,
    connectTimeoutMs: 2000, connectConcurrency: 64, cpus: [], ...over,
  });
  try {
    await sleep(200);
    client.beginMeasure();
    await sleep(500);
    client.endMeasure();
    return await client.finish();
  } catch (err) {
    await client.stop();
    throw err;
  }
}

test("GET and POST sessions against the epoll model's http: requests flow, every answer verified", { timeout: 20_000 }, async () => {
  const server = await startServer({ ...DEFAULT_SERVER_OPTIONS, model: "epoll", threads: 1, protocol: "http" });
  try {
    for (const http of ["GET", "POST"] as const) {
      for (const sizeBytes of [1, 300, 100_000]) {
        const m = await measure(server.port, { http, sizeBytes });
        assert.ok(m.messages > 0, `${http} ${sizeBytes} B: no request completed`);
        assert.deepEqual(m.errorsTotal, { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 }, `${http} ${sizeBytes} B`);
        // Answers that straddle the window edges count some bytes outside it: allow one per session.
        if (http === "POST") assert.ok(m.bytes >= (m.messages - 8) * sizeBytes, `${http}: ${m.bytes} bytes for ${m.messages} answers`);
      }
    }
  } finally {
    await server.stop();
  }
});

/** A server that answers each POST (framed by its Content-Length) through `answer`. */
async function fakeServer(answer: (body: Buffer, n: number) => Buffer): Promise<{ port: number; close(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buf.subarray(0, end).toString())?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        socket.write(answer(buf.subarray(end + 4, end + 4 + length), count++));
        buf = buf.subarray(end + 4 + length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const ok = (body: Buffer): Buffer => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Extra: 1\r\n\r\n`), body]);

test("wrong answers are mismatches: a flipped body byte, a wrong status, a wrong length, bytes past the answer", { timeout: 30_000 }, async () => {
  const wrongs: [string, (body: Buffer, n: number) => Buffer][] = [
    ["a flipped body byte", (body, n) => {
      const b = Buffer.from(body);
      if (n % 3 === 2) b[b.length - 1]! ^= 1;
      return ok(b);
    }],
    ["a wrong status", (body, n) => (n % 3 === 2 ? Buffer.concat([Buffer.from(`HTTP/1.1 500 Oops\r\nContent-Length: ${body.length}\r\n\r\n`), body]) : ok(body))],
    ["a wrong length", (body, n) => (n % 3 === 2 ? ok(body.subarray(1)) : ok(body))],
    ["bytes past the answer", (body, n) => (n % 3 === 2 ? Buffer.concat([ok(body), Buffer.from("x")]) : ok(body))],
  ];
  // First, the fake's correct answers (with an extra header) pass: the test can tell right from wrong.
  const fine = await fakeServer(ok);
  try {
    const m = await measure(fine.port, { http: "POST" });
    assert.ok(m.messages > 0);
    assert.equal(m.errorsTotal.mismatch, 0);
  } finally {
    await fine.close();
  }
  for (const [what, answer] of wrongs) {
    const server = await fakeServer(answer);
    try {
      const m = await measure(server.port, { http: "POST" });
      assert.ok(m.errorsTotal.mismatch > 0, `${what}: no mismatch counted`);
      assert.ok(m.messages > 0, `${what}: the right answers still count`);
    } finally {
      await server.close();
    }
  }
});
