/**
 * `iobench conform` as a user runs it: a correct server passes every check
 * with one line each and exit 0; each deliberately broken server fails,
 * naming the check that caught it, with exit 1 (test/fixtures/broken-echo.c,
 * broken-chat.ts); a server that cannot start is one line. The checks
 * themselves are the project's conformance tests (every model passes them).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ECHO_CHECKS } from "../clients/conform/echo.js";
import { connect } from "../clients/conform/net.js";
import { freePort } from "../runner/command-server.js";
import { cli, type Outcome } from "./fixtures/cli.js";
import { startBrokenChat } from "./fixtures/broken-chat.js";
import { ROOT, startServerProcess } from "./conformance/server.js";

const dir = mkdtempSync(path.join(tmpdir(), "iobench-conform-"));
const BROKEN_ECHO = path.join(dir, "broken-echo");

before(() => {
  execFileSync("cc", ["-O2", "-Wall", "-o", BROKEN_ECHO, path.join(ROOT, "test/fixtures/broken-echo.c")], { stdio: "inherit" });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The check lines of conform's stdout, by check name: "pass" or "FAIL" and the rest. */
function lines(out: Outcome): Map<string, { verdict: string; text: string }> {
  const found = new Map<string, { verdict: string; text: string }>();
  for (const line of out.stdout.split("\n").filter((l) => l !== "")) {
    const m = /^(pass|FAIL) {2}(\S+)\s+(.*)$/.exec(line);
    assert.ok(m !== null, `not a check line: ${line}`);
    found.set(m[2]!, { verdict: m[1]!, text: m[3]! });
  }
  return found;
}

/** Starts the broken echo fixture on a free port; resolves once it accepts. */
async function brokenEcho(mode: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort("127.0.0.1");
  const child = spawn(BROKEN_ECHO, [mode, String(port)], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const socket = await connect({ host: "127.0.0.1", port }).catch(() => null);
    if (socket !== null) {
      socket.destroy();
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, child };
}

describe("iobench conform", { timeout: 120_000 }, () => {
  test("--target: one of iobench's models passes every echo check, one line each, exit 0", async () => {
    const server = await startServerProcess({ model: "epoll", threads: 2 });
    try {
      const out = await cli(["conform", "--target", `127.0.0.1:${server.port}`, "--server-pid", String(server.pid)], { timeoutMs: 90_000 });
      assert.equal(out.code, 0, out.stdout + out.stderr);
      const found = lines(out);
      assert.deepEqual([...found.keys()], ECHO_CHECKS.map((c) => c.id));
      for (const [id, r] of found) assert.equal(r.verdict, "pass", `${id}: ${r.text}`);
      assert.match(found.get("non-reader")!.text, /server memory [+−]\d/, "with --server-pid the memory is watched");
      assert.match(out.stderr, /all 8 checks passed/);
    } finally {
      await server.stop();
    }
  });

  test("a server that drops a byte when a send is cut short fails partial-reads (as a command model), exit 1", async () => {
    const out = await cli(["conform", "--server-cmd", `broken=${BROKEN_ECHO} drop-partial {port}`, "--only", "sizes,partial-reads"], { timeoutMs: 60_000 });
    assert.equal(out.code, 1, out.stdout + out.stderr);
    const found = lines(out);
    assert.equal(found.get("sizes")?.verdict, "pass");
    assert.equal(found.get("partial-reads")?.verdict, "FAIL");
    assert.match(found.get("partial-reads")!.text, /differs at byte \d+/);
    assert.equal(found.get("stop")?.verdict, "pass", "it stops on SIGTERM");
    assert.match(out.stderr, /1 of 3 checks failed: partial-reads/);
  });

  test("a server that never closes after the client's FIN fails half-close (--target), exit 1", async () => {
    const { port, child } = await brokenEcho("stall-fin");
    try {
      const out = await cli(["conform", "--target", `127.0.0.1:${port}`, "--only", "sizes,half-close"], { timeoutMs: 60_000 });
      assert.equal(out.code, 1, out.stdout + out.stderr);
      const found = lines(out);
      assert.equal(found.get("sizes")?.verdict, "pass");
      assert.equal(found.get("half-close")?.verdict, "FAIL");
      assert.match(found.get("half-close")!.text, /no close from the server/);
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("a chat server that relays frames out of order fails chat-delivery, exit 1", async () => {
    const chat = await startBrokenChat();
    try {
      const out = await cli(["conform", "--target", `127.0.0.1:${chat.port}`, "--protocol", "chat", "--only", "chat-delivery"], { timeoutMs: 60_000 });
      assert.equal(out.code, 1, out.stdout + out.stderr);
      const found = lines(out);
      assert.equal(found.get("chat-delivery")?.verdict, "FAIL");
      assert.match(found.get("chat-delivery")!.text, /out of per-sender order/);
    } finally {
      await chat.close();
    }
  });

  test("a command that exits, never listens or listens elsewhere: one line naming it, exit 1", async () => {
    const taken = await freePort("127.0.0.1");
    const cases: [string, RegExp][] = [
      ["echo broken build >&2; exit 3", /^iobench: command model cmd:x exited before listening on 127\.0\.0\.1:\d+ \(exit code 3\): broken build$/],
      [`${BROKEN_ECHO} stall-fin ${taken}`, new RegExp(`^iobench: command model cmd:x listens on 127\\.0\\.0\\.1:${taken}, not on 127\\.0\\.0\\.1:\\d+: does its command take \\{port\\}\\?`)],
    ];
    for (const [command, expected] of cases) {
      const out = await cli(["conform", "--server-cmd", `x=${command}`, "--only", "sizes"], { timeoutMs: 30_000 });
      assert.equal(out.code, 1, out.stderr);
      assert.equal(out.stdout, "");
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      assert.match(out.stderr.trim(), expected);
    }
  });

  test("blocking chat gets a thread per member by default: a pool of 2 would hold only 2 members of the room", async () => {
    const out = await cli(["conform", "--model", "blocking", "--protocol", "chat", "--only", "chat-malformed"], { timeoutMs: 60_000 });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stderr, /^iobench conform: blocking \(a thread per connection\) at /);
    assert.equal(lines(out).get("chat-malformed")?.verdict, "pass");
  });

  test("usage problems: one line, exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["--target", "127.0.0.1:1", "--model", "epoll"], /give it, or --model \/ --server-cmd, not both/],
      [["--model", "epoll", "--only", "sizes,nope"], /echo has no check 'nope'/],
      [["--model", "cmd:mine"], /unknown model 'cmd:mine': declare it with --server-cmd mine=/],
      [["--server-cmd", "mine"], /--server-cmd must be NAME='command line'/],
      [[], /give the server to check/],
      [["--model", "epoll", "--threads", "per-connection"], /--threads per-connection applies to the blocking model only/],
      [["--server-cmd", "x=true", "--threads", "per-connection"], /not cmd:x \(a command is given a number\)/],
    ];
    for (const [args, expected] of cases) {
      const out = await cli(["conform", ...args]);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, expected);
    }
  });
});
