/**
 * iobench's HTTP client beside the tools users already trust. Against one
 * model speaking http (pinned to one core), iobench's client, autocannon
 * and wrk each drive the same load from the other core, one client thread
 * each (the whole CLI process is pinned, so autocannon, which runs in it,
 * and wrk, its child, are too). R rounds, a fresh server per round, the
 * clients' order rotating. Reports the median per-round ratio of iobench's
 * requests/s to autocannon's (goal: >= 1.5) and the latency percentiles of
 * iobench and wrk side by side.
 *
 *   npm run bench:http -- [--rounds 5] [--seconds 5] [--connections 64] [--model epoll]
 *
 * Needs wrk (apt-get install wrk); without it, wrk's column is skipped.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { wrkInstalled } from "../clients/wrk-client.js";
import { ROOT, arg, cpuPair, median, pinned, startModelServer } from "./lib.js";
import { missingPackage, optionalPackageDir } from "../contracts/optional.js";

const rounds = arg("rounds", 5);
const seconds = arg("seconds", 5);
const connections = arg("connections", 64);
const modelIndex = process.argv.indexOf("--model");
const model = modelIndex >= 0 ? (process.argv[modelIndex + 1] ?? "epoll") : "epoll";
const cpus = cpuPair();
if (optionalPackageDir("autocannon") === null) {
  process.stderr.write(`iobench: bench:http compares with autocannon: ${missingPackage("autocannon")}\n`);
  process.exit(2);
}
const clients = ["iobench", "autocannon", ...(wrkInstalled() ? ["wrk"] : [])];
if (clients.length < 3) process.stderr.write("wrk is not installed (apt-get install wrk): comparing with autocannon only\n");

interface Row {
  reqPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

/** One CLI sweep against the server, the clients in the given order; figures by client. */
function runClients(port: number, pid: number, order: string[]): Map<string, Row> {
  const [cmd, args] = pinned(cpus.client, process.execPath, [
    path.join(ROOT, "dist/cli/main.js"), "bench", "--target", `127.0.0.1:${port}`, "--server-pid", String(pid),
    "--model", model, "--protocol", "http", "--client", order.join(","),
    "--connections", String(connections), "--duration", String(seconds), "--warmup", "1",
    "--client-threads", "1", "--json", "--out", path.join(ROOT, "results/bench-http"),
  ]);
  const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  const results = JSON.parse(out) as {
    runs: { status: string; error?: string; config: { client?: string }; figures?: { messagesPerSec: number; latencyUs: { p50: number; p90: number; p99: number }; errors: { total: number } } }[];
  };
  const rows = new Map<string, Row>();
  for (const run of results.runs) {
    const f = run.figures;
    if (run.status !== "ok" || f === undefined) throw new Error(`${run.config.client ?? "iobench"} run failed: ${run.error ?? "no figures"}`);
    rows.set(run.config.client ?? "iobench", { reqPerSec: f.messagesPerSec, p50: f.latencyUs.p50, p90: f.latencyUs.p90, p99: f.latencyUs.p99, errors: f.errors.total });
  }
  return rows;
}

const all: Map<string, Row>[] = [];
for (let r = 0; r < rounds; r++) {
  const server = await startModelServer(model, 1, cpus.server, "http");
  try {
    const order = clients.map((_, i) => clients[(i + r) % clients.length]!);
    const rows = runClients(server.port, server.pid, order);
    all.push(rows);
    const cells = clients.map((c) => {
      const x = rows.get(c)!;
      return `${c} ${x.reqPerSec.toFixed(0)} req/s p50 ${x.p50} p99 ${x.p99} µs${x.errors > 0 ? ` ERRORS ${x.errors}` : ""}`;
    });
    process.stderr.write(`round ${r + 1}: ${cells.join(" | ")}\n`);
  } finally {
    await server.stop();
  }
}

const med = (c: string, f: (x: Row) => number): number => median(all.map((rows) => f(rows.get(c)!)));
const ratios = all.map((rows) => rows.get("iobench")!.reqPerSec / rows.get("autocannon")!.reqPerSec);
console.log(`HTTP clients against ${model} (1 server thread on cpu ${cpus.server || "any"}; clients on cpu ${cpus.client || "any"}, one thread each; ${connections} connections, GET, ${seconds} s, ${rounds} rounds; medians):`);
console.log("client        req/s    p50 µs   p90 µs   p99 µs");
for (const c of clients) {
  console.log(`${c.padEnd(12)} ${med(c, (x) => x.reqPerSec).toFixed(0).padStart(7)}  ${med(c, (x) => x.p50).toFixed(0).padStart(7)}  ${med(c, (x) => x.p90).toFixed(0).padStart(7)}  ${med(c, (x) => x.p99).toFixed(0).padStart(7)}`);
}
console.log(`median ratio iobench/autocannon req/s: ${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}; goal >= 1.5)`);
if (clients.includes("wrk")) {
  const p = (q: "p50" | "p90" | "p99"): string => `${q} ${(med("iobench", (x) => x[q]) / med("wrk", (x) => x[q])).toFixed(2)}`;
  console.log(`latency iobench/wrk: ${p("p50")}, ${p("p90")}, ${p("p99")}`);
}
