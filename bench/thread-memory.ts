/**
 * What does a thread of `blocking --threads per-connection` cost? Each
 * server is started alone, its RSS read once it idles, then N connections
 * are opened and each echoes one message (so every connection's thread has
 * run), and the RSS is read again: cost per connection = RSS growth / N.
 * Servers: this build's blocking model, optionally another build's (--compare
 * <that build's dist/servers/main.js>, for a before/after), and a C
 * thread-per-connection echo server (bench/thread-cost/, built with cc) as
 * the native yardstick. Taken in a rotating order, R rounds; medians.
 *
 *   npm run bench:thread-memory -- [--connections 200] [--rounds 3] [--compare /path/to/dist/servers/main.js]
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { readRssBytes } from "../runner/proc.js";
import { ROOT, arg, median, startListeningProgram, startModelServer, type StartedServer } from "./lib.js";

const connections = arg("connections", 200);
const rounds = arg("rounds", 3);
const ci = process.argv.indexOf("--compare");
const compare = ci >= 0 ? process.argv[ci + 1] : undefined;
const IDLE_MS = 1_000;
const SETTLE_MS = 2_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function buildNative(): string {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "iobench-thread-cost-")), "thread-per-connection");
  execFileSync("cc", ["-O2", "-pthread", "-o", out, path.join(ROOT, "bench/thread-cost/thread-per-connection.c")], { stdio: "inherit" });
  return out;
}

/** Opens n connections to port, each echoing one 64-byte message; resolves with them open. */
async function connectAll(port: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, "127.0.0.1");
    sockets.push(s);
    const echoed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      s.once("error", () => resolve(false));
      s.once("connect", () => s.write(Buffer.alloc(64, 7)));
      s.once("data", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!echoed) {
      for (const x of sockets) x.destroy();
      throw new Error(`connection ${i + 1} got no echo`);
    }
  }
  return sockets;
}

/** MB of server RSS per open connection. */
async function perConnectionMb(server: StartedServer): Promise<number> {
  await sleep(IDLE_MS);
  const before = readRssBytes(server.pid);
  const sockets = await connectAll(server.port, connections);
  await sleep(SETTLE_MS);
  const after = readRssBytes(server.pid);
  for (const s of sockets) s.destroy();
  if (before === undefined || after === undefined) throw new Error("the server is gone");
  return (after - before) / connections / 2 ** 20;
}

const native = buildNative();
const servers: Record<string, () => Promise<StartedServer>> = {
  "blocking per-connection (this build)": () => startModelServer("blocking", "per-connection", ""),
  ...(compare !== undefined ? { [`blocking per-connection (${compare})`]: () => startModelServer("blocking", "per-connection", "", "echo", compare) } : {}),
  "C pthread per connection": () => startListeningProgram("", native, []),
};
const names = Object.keys(servers);
const figures = new Map<string, number[]>(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + r) % names.length]!;
    const server = await servers[name]!();
    try {
      const mb = await perConnectionMb(server);
      figures.get(name)!.push(mb);
      process.stderr.write(`round ${r + 1} ${name}: ${mb.toFixed(3)} MB per connection\n`);
    } finally {
      await server.stop();
    }
  }
}
process.stdout.write(`server RSS growth per connection, ${connections} connections, median of ${rounds} rounds:\n`);
for (const name of names) {
  const xs = figures.get(name)!;
  process.stdout.write(`  ${name.padEnd(60)} ${median(xs).toFixed(3)} MB  (${xs.map((x) => x.toFixed(3)).join(", ")})\n`);
}
