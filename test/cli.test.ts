import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { MAIN, cli, type Outcome } from "./fixtures/cli.js";




/** Exactly one stderr line, "iobench: ...", no stack trace, the expected exit status. */
function assertOneLineError(o: Outcome, code: number, pattern: RegExp): void {
  const lines = o.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one stderr line, got:\n${o.stderr}`);
  assert.match(lines[0]!, /^iobench: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(o.stderr, /^\s+at /m, "no stack trace");
  assert.equal(o.code, code, `exit status (stderr: ${o.stderr})`);
  assert.equal(o.stdout, "", "nothing on stdout");
}

const USAGE_CASES: [string[], RegExp][] = [
  [["--bogus"], /Unknown argument: bogus/],
  [["bench", "--model", "nope"], /unknown model 'nope'.*epoll/],
  [["--threads", "abc"], /--threads must be a whole number, got 'abc'/],
  [["--connections", "0"], /--connections must be between 1 and/],
  [["--duration", "soon"], /--duration must be a number, got 'soon'/],
  [["--size", "12q"], /--size must be a byte count/],
  [["--accept", "maybe"], /--accept must be poll or ring \(or both: poll,ring\), got 'maybe'/],
  [["--client-engine", "kqueue"], /Invalid values: .*client-engine/],
  [["--server-cpus", "0", "--client-cpus", "0"], /overlap/],
  [["--client-cpus", "4096"], /CPU 4096 does not exist/],
  [["--no-pin", "--server-cpus", "0"], /--no-pin contradicts --server-cpus\/--client-cpus/],
  [["--claims", "--protocol", "http"], /--claims adds echo runs .*cannot go with --target, --protocol/],
  [["--target", "nowhere"], /--target must be host:port/],
  [["--server-pid", "1"], /--server-pid applies with --target only/],
  [["--threads", "per-connection", "--model", "epoll"], /per-connection applies to the blocking model only/],
  [["serve", "--model", "nope"], /unknown model 'nope'/],
  [["serve", "--port", "70000"], /--port must be between 0 and 65535/],
  [["serve", "--connections", "5"], /Unknown argument: connections/],
  [["--work", "cpu:5parsecs"], /--work 'cpu:5parsecs': unknown unit/],
  [["--work", "block:1ms", "--target", "127.0.0.1:9"], /--work .*external server/],
  [["--senders", "3"], /--senders applies to --protocol chat only/],
  [["--protocol", "chat", "-c", "2", "--senders", "3"], /--senders 3 is more than a room of --connections 2/],
  [["--protocol", "chat", "--size", "8"], /--size 8: a chat frame carries at least 16 bytes/],
  [["--protocol", "chat", "--think-time", "5"], /members stay for the whole run/],
  [["--protocol", "chat", "--client-engine", "epoll"], /--client-engine applies to echo sessions/],
  [["serve", "--protocol", "chat", "--max-frame", "100", "--buffer", "50"], /--buffer 50 must hold one largest chat frame/],
  [["serve", "--work", "sleep"], /--work 'sleep': expected cpu:<time> or block:<time>/],
  [["--client", "autocannon"], /--client autocannon speaks HTTP only: add --protocol http/],
  [["--client", "curl", "--protocol", "http"], /--client must be iobench, autocannon or wrk, got 'curl'/],
  [["--protocol", "gopher"], /Invalid values: .*protocol/],
  [["--http-method", "POST"], /--http-method applies with --protocol http only/],
  [["--protocol", "chat", "--client", "wrk"], /--client wrk speaks HTTP only: add --protocol http/],
  [["--protocol", "chat", "--http-method", "GET"], /--http-method applies with --protocol http only/],
  [["--protocol", "http", "--senders", "2"], /--senders applies to --protocol chat only/],
  [["serve", "--protocol", "chat", "--work", "cpu:1us"], /--work applies to --protocol echo or http, not chat/],
  [["--profile", "bubbleprof"], /--profile bubbleprof is refused: clinic bubbleprof hangs on Node 20/],
  [["--profile", "doctor", "--target", "127.0.0.1:9"], /cannot profile an external server/],
];

for (const [args, pattern] of USAGE_CASES) {
  test(`usage error: iobench ${args.join(" ")}`, { timeout: 30_000 }, async () => {
    assertOneLineError(await cli(args), 2, pattern);
  });
}

test("serve on a port in use: one line, non-zero exit", { timeout: 30_000 }, async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen({ host: "127.0.0.1", port: 0 }, () => resolve()));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const o = await cli(["serve", "--model", "node", "--threads", "1", "--port", String(port)]);
    assertOneLineError(o, 2, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test("--help describes every flag and its default", { timeout: 30_000 }, async () => {
  const bench = await cli(["--help"]);
  assert.equal(bench.code, 0);
  for (const flag of [
    "--model", "--threads", "--connections", "--size", "--duration", "--warmup", "--repeats", "--client-threads", "--timeout",
    "--target", "--server-pid", "--server-cpus", "--client-cpus", "--host", "--buffer", "--accept", "--out", "--json", "--pin", "--claims",
  ]) {
    assert.match(bench.stdout, new RegExp(`${flag}\\b`), flag);
  }
  assert.match(bench.stdout, /\[default: 256\]/);
  assert.match(bench.stdout, /\[default: 1\.5\]/);
  const serve = await cli(["serve", "--help"]);
  assert.equal(serve.code, 0);
  for (const flag of ["--model", "--threads", "--host", "--port", "--buffer", "--accept"]) assert.match(serve.stdout, new RegExp(`${flag}\\b`), flag);
  assert.match(serve.stdout, /\[default: 9000\]/);
  assert.match(serve.stdout, /\[default: 127\.0\.0\.1\]/);
});

test("serve listens, echoes, and exits 0 on SIGTERM", { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [MAIN, "serve", "--model", "node", "--threads", "1", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 25_000);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0]!);
      });
      void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
    });
    const m = /^iobench: node model, 1 threads, listening on 127\.0\.0\.1:(\d+) \(Ctrl-C stops\)$/.exec(line);
    assert.ok(m, line);
    const echoed = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port: Number(m[1]) }, () => s.write("hello"));
      let got = "";
      s.on("data", (d) => {
        got += d.toString();
        if (got.length >= 5) {
          s.destroy();
          resolve(got);
        }
      });
      s.once("error", reject);
    });
    assert.equal(echoed, "hello");
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
  } finally {
    clearTimeout(killer);
    child.kill("SIGKILL");
  }
});
