/**
 * Conformance of the http protocol: the SAME cases for every model of
 * servers/models.ts, each model as its own server process started with
 * protocol "http": the checks of `iobench conform --protocol http`
 * (clients/conform/http.ts, which parse the answers), then iobench's own
 * answers byte for byte and the server's counts, with plain `net` sockets
 * (no HTTP library, so the bytes on the wire are what is asserted).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { MODELS } from "../servers/models.js";
import { HTTP_GET_BODY, HTTP_HEAD_LIMIT } from "../protocol/http.js";
import { closeSocket, connect, delay, readBytes } from "../clients/conform/net.js";
import { HTTP_CHECKS } from "../clients/conform/http.js";
import { assertQuiet, conformCases, spawnMain, withServer } from "./conformance/server.js";

const MODELS_AT_ONCE = 3;
const CASE_TIMEOUT_MS = 60_000;

const GET = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
const GET_ANSWER = `HTTP/1.1 200 OK\r\nContent-Length: ${HTTP_GET_BODY.length}\r\n\r\n${HTTP_GET_BODY}`;
const BAD = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const TOO_LONG = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/** Sends `request` and expects exactly `answer` back (and nothing more yet). */
async function exchange(port: number, request: Buffer, answer: Buffer, what: string): Promise<void> {
  const socket = await connect({ host: "127.0.0.1", port });
  try {
    const got = readBytes(socket, answer.length, 10_000);
    socket.write(request);
    assert.ok((await got).equals(answer), `${what}: the answer differs`);
  } finally {
    await closeSocket(socket);
  }
}

/** Sends `request` and reads until the server closes. */
async function untilClose(port: number, request: string | Buffer): Promise<string> {
  const socket = await connect({ host: "127.0.0.1", port });
  try {
    const got = readBytes(socket, Infinity, 10_000);
    socket.write(request);
    return (await got).toString("latin1");
  } finally {
    await closeSocket(socket);
  }
}

function httpCases(options: Record<string, unknown>): void {
  conformCases(options, HTTP_CHECKS, CASE_TIMEOUT_MS);

  test("malformed request: 400 then close; over-long head: 431 then close; both counted; others still served", { timeout: CASE_TIMEOUT_MS }, () =>
    withServer(options, async (server) => {
      assert.equal(await untilClose(server.port, "BREW /pot HTTP/1.1\r\n\r\n"), BAD);
      assert.equal(await untilClose(server.port, `${GET}GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n`), GET_ANSWER + BAD);
      assert.equal(await untilClose(server.port, `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(HTTP_HEAD_LIMIT)}\r\n\r\n`), TOO_LONG);
      assert.equal(await untilClose(server.port, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), GET_ANSWER.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
      await exchange(server.port, Buffer.from(GET), Buffer.from(GET_ANSWER), "GET after the refusals");
      assertQuiet(server);
    }),
  );

  test("the server's last line counts requests and refusals", { timeout: CASE_TIMEOUT_MS }, async () => {
    const child = spawnMain({ host: "127.0.0.1", port: 0, threads: 2, ...options });
    const lines: string[] = [];
    const read = createInterface({ input: child.stdout! });
    read.on("line", (l) => lines.push(l));
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    try {
      while (lines.length === 0 && child.exitCode === null) await delay(20);
      const port = (JSON.parse(lines[0] ?? "{}") as { port: number }).port;
      await exchange(port, Buffer.from(GET + GET), Buffer.from(GET_ANSWER + GET_ANSWER), "two GETs");
      await untilClose(port, "nonsense\r\n\r\n");
      await untilClose(port, `GET / HTTP/1.1\r\nX: ${"b".repeat(HTTP_HEAD_LIMIT)}\r\n\r\n`);
      const closed = new Promise((resolve) => read.once("close", resolve));
      child.kill("SIGTERM");
      await closed;
      const last = JSON.parse(lines.at(-1) ?? "{}") as Record<string, unknown>;
      assert.deepEqual({ event: last["event"], http: last["http"] }, { event: "stopped", http: { requests: 2, badRequests: 1, headsTooLong: 1, headerTimeouts: 0 } });
    } finally {
      clearTimeout(killer);
      child.kill("SIGKILL");
    }
  });
}

/** Resolves with how long after the call the server closed `socket` (end or reset), or rejects after ms. */
function closedWithin(socket: Socket, ms: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server kept the connection open for ${ms} ms`)), ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    };
    socket.once("end", done);
    socket.once("close", done);
    socket.on("error", () => undefined);
    socket.resume();
  });
}

function headerTimeoutCase(options: Record<string, unknown>): void {
  const timeoutMs = 400;
  test("a head not complete within the header timeout closes its connection (counted); an idle keep-alive one stays", { timeout: CASE_TIMEOUT_MS }, async () => {
    const child = spawnMain({ host: "127.0.0.1", port: 0, threads: 2, headerTimeoutMs: timeoutMs, ...options });
    const lines: string[] = [];
    const read = createInterface({ input: child.stdout! });
    read.on("line", (l) => lines.push(l));
    const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    try {
      while (lines.length === 0 && child.exitCode === null) await delay(20);
      const port = (JSON.parse(lines[0] ?? "{}") as { port: number }).port;
      // A head that goes on one byte (of its target) every 100 ms, for ever; and a connection that sends nothing at all.
      const slow = await connect({ host: "127.0.0.1", port });
      const silent = await connect({ host: "127.0.0.1", port });
      slow.write("GET /");
      const trickle = setInterval(() => slow.write("a"), 100);
      try {
        const [slowMs, silentMs] = await Promise.all([closedWithin(slow, 5_000), closedWithin(silent, 5_000)]);
        for (const ms of [slowMs, silentMs]) assert.ok(ms >= timeoutMs - 50 && ms < timeoutMs + 1_500, `closed after ${ms} ms (timeout ${timeoutMs} ms)`);
      } finally {
        clearInterval(trickle);
        slow.destroy();
        silent.destroy();
      }
      // A keep-alive connection idle between requests is not timed: it answers again after 3 timeouts.
      const idle = await connect({ host: "127.0.0.1", port });
      try {
        const first = readBytes(idle, GET_ANSWER.length, 5_000);
        idle.write(GET);
        assert.equal((await first).toString("latin1"), GET_ANSWER);
        await delay(3 * timeoutMs);
        const second = readBytes(idle, GET_ANSWER.length, 5_000);
        idle.write(GET);
        assert.equal((await second).toString("latin1"), GET_ANSWER);
      } finally {
        await closeSocket(idle);
      }
      const closed = new Promise((resolve) => read.once("close", resolve));
      child.kill("SIGTERM");
      await closed;
      const last = JSON.parse(lines.at(-1) ?? "{}") as Record<string, unknown>;
      assert.deepEqual({ event: last["event"], http: last["http"] }, { event: "stopped", http: { requests: 2, badRequests: 0, headsTooLong: 0, headerTimeouts: 2 } });
    } finally {
      clearTimeout(killer);
      child.kill("SIGKILL");
    }
  });
}

describe("http conformance: every model", { concurrency: MODELS_AT_ONCE }, () => {
  for (const model of MODELS) {
    describe(model.name, { concurrency: 1 }, () => {
      httpCases({ model: model.name, threads: 2, protocol: "http" });
      headerTimeoutCase({ model: model.name, protocol: "http" });
    });
  }
});

describe("http options", () => {
  test("a per-connection cap too small for http answers is refused in one line", { timeout: 15_000 }, async () => {
    const child = spawnMain({ model: "epoll", threads: 1, protocol: "http", bufferBytes: 100 });
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
    const code = await new Promise((resolve) => child.once("close", resolve));
    assert.equal(code, 1);
    assert.match(out, /bufferBytes must be at least \d+ for the http protocol, not 100/);
  });
});
