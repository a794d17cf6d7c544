/**
 * Protocol conformance: the SAME tests for every model of servers/models.ts.
 * Each case runs the model as its own server process (dist/servers/main.js,
 * port 0, 2 threads), exactly as the runner does, and checks it with the
 * checks of `iobench conform` (clients/conform/), small independent `net`
 * clients.
 *
 * A model whose file is missing or which cannot start here fails every
 * case with the server's own one-line message.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type net from "node:net";
import { MODELS } from "../servers/models.js";
import { closeSocket, connect, delay, echoDifference, pattern, roundTrip, session, type Target } from "../clients/conform/net.js";
import { ECHO_CHECKS } from "../clients/conform/echo.js";
import { MAIN, assertQuiet, conformCases, cpuSeconds, fdCount, spawnMain, startServerProcess, withServer } from "./conformance/server.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const THREADS = 2;
/**
 * Models tested at once. Each model's cases run one after another; three
 * models side by side keep 2 cores busy without starving the timing-bound
 * cases (the whole file takes about a minute).
 */
const MODELS_AT_ONCE = 3;
/** Per case; the slowest (1,000 sessions against a 2-thread blocking pool) takes a few seconds. */
const CASE_TIMEOUT_MS = 60_000;

function assertEcho(reply: Buffer, data: Buffer, what: string): void {
  assert.equal(echoDifference(reply, data), "", what);
}

/** Runs a child to its end (bounded) and returns its exit code and output. */
async function runToEnd(child: ReturnType<typeof spawnMain>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("close", (c: number | null) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The server meets EMFILE: it must neither spin on the pending connections nor die, and must recover. */
function outOfFdsCase(options: Record<string, unknown>): void {
  test("out of fds (ulimit -n 64, 100 clients held): little CPU, no crash, serves again after", { timeout: CASE_TIMEOUT_MS }, () =>
    withServer(
      options,
      async (server) => {
        const held: net.Socket[] = [];
        try {
          // The kernel completes these handshakes whether or not the server
          // can accept them; a server may also drop some it has no fds for.
          for (let i = 0; i < 100; i++) held.push(await connect(server.target));
          await delay(300);
          const fds = fdCount(server.pid);
          const cpu0 = cpuSeconds(server.pid);
          await delay(1000);
          const used = cpuSeconds(server.pid) - cpu0;
          assert.ok(server.alive(), `the server died out of fds: ${server.stderr().trim()}`);
          // A spinning accept loop burns a whole core; an idle server, a few ms.
          assert.ok(used < 0.3, `the server used ${used.toFixed(2)} s of CPU in 1 s while out of fds (${fds} fds open)`);
        } finally {
          await Promise.all(held.map((s) => closeSocket(s)));
        }
        // Serves again once the server has seen those clients go: a server
        // that drops connections while out of fds (node) may drop one more
        // before it notices, so allow three tries, 500 ms apart.
        let lastError: unknown;
        for (let attempt = 0; attempt < 3; attempt++) {
          if (attempt > 0) await delay(500);
          lastError = await session(server.target, 2, 100, 10_000).then(() => undefined, (err: unknown) => err);
          if (lastError === undefined) break;
        }
        assert.equal(lastError, undefined, `not served again after the clients closed: ${String(lastError)}`);
        assertQuiet(server);
      },
      { nofile: 64 },
    ),
  );
}

/** SIGTERM with the connections `open` makes: the server exits 0 within 3 s (5 s at most before the test gives up on it). */
function sigtermCase(options: Record<string, unknown>, open: (target: Target, clients: net.Socket[]) => Promise<void>): void {
  test("SIGTERM with connections open: exit code 0 within 3 s", { timeout: CASE_TIMEOUT_MS }, async () => {
    const server = await startServerProcess(options);
    const clients: net.Socket[] = [];
    try {
      await open(server.target, clients);
      const t0 = Date.now();
      server.child.kill("SIGTERM");
      const exit = await Promise.race([server.exited, delay(5_000).then(() => null)]);
      const ms = Date.now() - t0;
      assert.notEqual(exit, null, "the server did not exit within 5 s of SIGTERM");
      assert.deepEqual(exit, { code: 0, signal: null }, `stderr: ${server.stderr().trim()}`);
      assert.ok(ms < 3000, `the server took ${ms} ms to stop`);
      assert.equal(server.stderr(), "");
    } finally {
      await server.stop();
      await Promise.all(clients.map((s) => closeSocket(s)));
    }
  });
}

/** The cases every model must pass, for one set of server options. */
function conformanceCases(options: Record<string, unknown>): void {
  conformCases(options, ECHO_CHECKS, CASE_TIMEOUT_MS);

  outOfFdsCase(options);

  sigtermCase(options, async (target, clients) => {
    await session(target, 1, 100, 10_000);
    // First a client that sends and never reads (a blocking thread stays
    // blocked in send), then idle ones (blocked in recv, or queued).
    const stuck = await connect(target);
    stuck.pause();
    stuck.write(pattern(8 * MiB));
    clients.push(stuck);
    await delay(100);
    for (let i = 0; i < 10; i++) clients.push(await connect(target));
    await delay(200);
  });

  test("a port in use: one line on stderr, an error event on stdout, exit 1", { timeout: CASE_TIMEOUT_MS }, () =>
    withServer(options, async (server) => {
      const second = await runToEnd(spawnMain({ ...options, host: "127.0.0.1", port: server.port }), 10_000);
      const message = `127.0.0.1:${server.port} is already in use`;
      assert.equal(second.code, 1);
      assert.equal(second.stderr, `iobench server: ${message}\n`);
      assert.deepEqual(JSON.parse(second.stdout), { event: "error", message });
      assertQuiet(server);
    }),
  );
}

describe("conformance: every model", { concurrency: MODELS_AT_ONCE }, () => {
  for (const model of MODELS) {
    describe(model.name, { concurrency: 1 }, () => conformanceCases({ model: model.name, threads: THREADS }));
  }
});

describe("blocking, one thread per connection", { concurrency: 1 }, () => {
  const options = { model: "blocking", threads: "per-connection", maxConnectionThreads: 8 };

  test("echoes 1 MiB and serves 30 concurrent sessions with at most 8 threads", { timeout: CASE_TIMEOUT_MS }, () =>
    withServer(options, async (server) => {
      const socket = await connect(server.target);
      const data = pattern(MiB, 5);
      assertEcho(await roundTrip(socket, data, 10_000), data, "1 MiB");
      await closeSocket(socket);
      const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => session(server.target, 3, 1000, 30_000, i)));
      assert.equal(results.filter((r) => r.status === "rejected").length, 0);
      assertQuiet(server);
    }),
  );

  outOfFdsCase(options);

  sigtermCase(options, async (target, clients) => {
    for (let i = 0; i < 5; i++) clients.push(await connect(target));
    await session(target, 1, 100, 10_000);
  });
});

describe("the server process", { concurrency: true }, () => {
  const cases: [string, string, RegExp][] = [
    ["options that are not JSON", "{model", /^server options are not valid JSON/],
    ["an unknown model", '{"model":"select"}', /^unknown model "select" \(one of: /],
    ["per-connection threads for a model other than blocking", '{"model":"epoll","threads":"per-connection"}', /^threads per-connection applies to the blocking model only \(not epoll\)/],
    ["a host name instead of an address", '{"model":"epoll","threads":1,"host":"localhost"}', /^host must be a numeric IPv4 or IPv6 address/],
  ];
  for (const [what, json, expected] of cases) {
    test(`refuses ${what} in one line, exit 1`, { timeout: 15_000 }, async () => {
      const result = await runToEnd(spawn(process.execPath, [MAIN, json], { stdio: ["ignore", "pipe", "pipe"] }), 10_000);
      assert.equal(result.code, 1);
      const lines = result.stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, `stderr: ${result.stderr}`);
      const event = JSON.parse(result.stdout) as { event: string; message: string };
      assert.equal(event.event, "error");
      assert.match(event.message, expected);
      assert.equal(lines[0], `iobench server: ${event.message}`);
    });
  }
});
