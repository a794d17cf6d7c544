/**
 * wrk (the Debian package `wrk`) as a load driver: one wrk thread (-t1),
 * run as a child process. Warm-up and window are two wrk runs; the window's
 * run is ended by SIGINT at endMeasure (wrk then stops and reports), and a
 * Lua script prints wrk's figures as one JSON line: requests, bytes, errors
 * by kind, body mismatches, and 1,000 latency quantiles from wrk's own
 * histogram (µs), from which an iobench histogram is rebuilt (to 0.1 %
 * quantile resolution: wrk gives quantiles, not its raw counts).
 *
 * wrk runs in another process: the client CPU figures of results.json do
 * not include it, and progress shows no live counts.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { spawnGuarded } from "../native/guard.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { LoadDriver } from "../contracts/client.js";
import { outsideToolBody } from "./message.js";
import { clampUs, createHistogram } from "../contracts/histogram.js";
import { TIMELINE_INTERVAL_MS } from "./shared.js";
import type { ClientMeasurement, ClientOptions, LiveCounters } from "../contracts/client.js";
import { NO_ERRORS } from "../contracts/client.js";
import { HTTP_GET_BODY } from "../protocol/http.js";

/** How to get wrk when it is missing. */
export const WRK_INSTALL_HINT = "wrk is not installed: on Debian/Ubuntu run `apt-get install wrk` (as root), then try again";

/** Quantiles wrk reports, per mille (0.1 % steps). */
const QUANTILES = 1000;
/** A wrk run that outlives its SIGINT by this much is killed. */
const KILL_AFTER_MS = 5_000;

/** True when `wrk` runs here. */
export function wrkInstalled(): boolean {
  const r = spawnSync("wrk", ["--version"], { stdio: "ignore" });
  return r.error === undefined;
}

/** What the Lua done() prints. */
interface WrkReport {
  requests: number;
  bytes: number;
  durationUs: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  mismatches: number;
  maxUs: number;
  quantilesUs: number[];
}

/** The Lua script: the request, a body check per answer, and the JSON report. */
function luaScript(method: "GET" | "POST", body: string, expect: string): string {
  const q = (s: string): string => JSON.stringify(s); // a JSON string of printable ASCII is a valid Lua string
  return `
wrk.method = ${q(method)}
${method === "POST" ? `wrk.body = ${q(body)}` : ""}
local expected = ${q(expect)}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) mismatches = 0 end
function response(status, headers, body)
  if body ~= expected then mismatches = mismatches + 1 end
end
function done(summary, latency, requests)
  local m = 0
  for _, t in ipairs(threads) do m = m + t:get("mismatches") end
  local e = summary.errors
  local qs = {}
  for i = 1, ${QUANTILES} - 1 do qs[i] = latency:percentile(i * 100 / ${QUANTILES}) end
  io.write(string.format('{"requests":%d,"bytes":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"mismatches":%d,"maxUs":%d,"quantilesUs":[%s]}\\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, m, latency.max, table.concat(qs, ",")))
end
`;
}

export class WrkClient implements LoadDriver {
  private run: { child: ChildProcess; out: Promise<string> } | null = null;
  private report: Promise<string> | null = null;
  private readonly dir: string;
  private readonly script: string;

  private constructor(private readonly opts: ClientOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), "iobench-wrk-"));
    this.script = path.join(this.dir, "iobench.lua");
    const method = opts.http === "POST" ? "POST" : "GET";
    const body = method === "POST" ? outsideToolBody(opts.sizeBytes) : "";
    writeFileSync(this.script, luaScript(method, body, method === "POST" ? body : HTTP_GET_BODY));
  }

  static async start(opts: ClientOptions): Promise<WrkClient> {
    if (!wrkInstalled()) throw new Error(WRK_INSTALL_HINT);
    const c = new WrkClient(opts);
    c.run = c.launch();
    return c;
  }

  private launch(): { child: ChildProcess; out: Promise<string> } {
    const o = this.opts;
    const host = o.host.includes(":") ? `[${o.host}]` : o.host;
    const child = spawnGuarded("wrk", [
      "-t1", `-c${o.sessions}`, "-d86400s", `--timeout`, `${Math.max(1, Math.ceil(o.timeoutMs / 1000))}s`,
      "-s", this.script, `http://${host}:${o.port}/`,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
    const done = new Promise<string>((resolve, reject) => {
      child.once("error", (e) => reject(new Error(`wrk: ${e.message}`)));
      child.once("close", (code, signal) => {
        if (code === 0 || signal !== null) resolve(out);
        else reject(new Error(`wrk exited with code ${code}: ${(err || out).trim().split("\n")[0] ?? ""}`));
      });
    });
    done.catch(() => undefined); // read by finish(); a warm-up run's end is not awaited
    return { child, out: done };
  }

  /** SIGINT (wrk reports and exits), then SIGKILL if it lingers. */
  private static end(run: { child: ChildProcess; out: Promise<string> }): Promise<string> {
    run.child.kill("SIGINT");
    const timer = setTimeout(() => run.child.kill("SIGKILL"), KILL_AFTER_MS);
    return run.out.finally(() => clearTimeout(timer));
  }

  live(): LiveCounters {
    return { messages: 0, errors: 0, connected: 0, connects: 0 };
  }

  beginMeasure(): void {
    if (this.run === null || this.report !== null) return;
    void WrkClient.end(this.run).catch(() => undefined);
    this.run = this.launch();
  }

  endMeasure(): void {
    if (this.run === null || this.report !== null) return;
    this.report = WrkClient.end(this.run);
    this.run = null;
  }

  async finish(): Promise<ClientMeasurement> {
    this.endMeasure();
    try {
      const out = await (this.report ?? Promise.resolve(""));
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line === undefined) throw new Error(`wrk printed no report: ${out.trim().split("\n")[0] ?? "(nothing)"}`);
      return measurementOf(JSON.parse(line) as WrkReport, this.opts.sessions);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {
    const run = this.run;
    this.run = null;
    if (run !== null) await WrkClient.end(run).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** wrk's report as a ClientMeasurement: the histogram rebuilt from its quantiles. */
export function measurementOf(r: WrkReport, sessions: number): ClientMeasurement {
  const latency = createHistogram();
  const good = Math.max(0, r.requests - r.errors.status - r.mismatches);
  if (r.requests > 0) {
    // Quantile i/1000 stands for the requests between it and the next: spread the count evenly, the max last.
    const values = [...r.quantilesUs, r.maxUs];
    let given = 0;
    for (let i = 0; i < values.length; i++) {
      const upto = Math.round(((i + 1) * r.requests) / values.length);
      if (upto > given) latency.recordValueWithCount(clampUs(values[i] ?? r.maxUs), upto - given);
      given = upto;
    }
  }
  const errors = {
    ...NO_ERRORS,
    connect: r.errors.connect,
    reset: r.errors.read + r.errors.write,
    timeout: r.errors.timeout,
    mismatch: r.errors.status + r.mismatches,
  };
  return {
    durationMs: r.durationUs / 1000,
    messages: good,
    bytes: r.bytes,
    latencyUs: latency,
    uncorrectedLatencyUs: null, // wrk runs a closed loop
    connectLatencyUs: createHistogram(), // wrk does not time its connects
    firstEchoUs: null,
    errors,
    errorsTotal: { ...errors },
    sessionsConnected: r.errors.connect === 0 ? sessions : 0,
    sessionsServed: good > 0 ? sessions : 0, // wrk reports no per-connection figures
    sessionsTimedOut: 0,
    connects: sessions, // the window's wrk run opened its connections inside the window
    connectsTotal: 2 * sessions, // and the warm-up's run before it
    timeline: { intervalMs: TIMELINE_INTERVAL_MS, messages: [], measureStartIndex: 0 },
    threadIds: [],
  };
}
