/**
 * The soak: can a model serve ten million messages without a wrong byte, a
 * leaked fd or memory that keeps growing? For each model × protocol (echo,
 * http POST, chat): one server process, driven by iobench's own client in
 * segments until at least --messages messages (chat: deliveries) are
 * verified, every byte compared by the client, and two rounds of sizes are
 * done. Sessions reconnect (echo and http: a new connection every 200
 * messages; chat: a new room every segment), sizes are drawn per message
 * from 1 B to 64 KiB (http and chat: one size a segment, in turn from the
 * smallest to 64 KiB, a round: a request's or a frame's size is fixed for a
 * run), and beside the load an injector opens connections, sends part of a
 * message and resets them (RST) every few milliseconds.
 *
 * Printed per model × protocol: messages, mismatches (must be 0), errors by
 * kind, resets injected, the server's RSS before the load, after the first
 * round of sizes and at the end (see RSS_GROWTH_BOUND_MB for what that bound
 * checks), and its open fds before and after (must be equal). RSS after
 * every segment goes to stderr. Exit 1 if any check fails.
 *
 *   npm run soak -- [--model epoll,iocp] [--protocol echo,http,chat] [--messages 10000000] [--limit-sec 540] [--segment-sec 20 (http 10)] [--reset-every-ms 10]
 *
 * Each model × protocol is its own server and can be run alone (one hold
 * of the machine lock each).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { ResultsFile } from "../reports/schema.js";
import { readRssBytes } from "../runner/proc.js";
import { guarded } from "../native/guard.js";
import { MODELS } from "../servers/models.js";
import { ROOT, cpuPair, startModelServer, type StartedServer } from "./lib.js";

type Protocol = "echo" | "http" | "chat";

/**
 * How much the server's RSS may grow from the end of the first round of
 * sizes (every size served once: its pools, buffers and heaps grown to what
 * the load needs) to the end of the soak, MiB. It bounds all growth,
 * whatever its cause: over 10⁷ messages a leak of 3.4 bytes a message or more
 * crosses it; so can memory nobody leaked but nobody returned yet (garbage V8
 * has not collected, allocator arenas), which is why a failure prints the
 * growth per message and the per-segment RSS is on stderr: a plateau and a
 * leak read differently there.
 */
const RSS_GROWTH_BOUND_MB = 32;
/** Echo and http sessions, and the chat room's members and senders. */
const SESSIONS = 32;
const CHAT = { members: 32, senders: 8, rateHz: 600 };
/** Echo message sizes, drawn per message: every range from 1 B to 64 KiB, small ones more often (mean about 3 KiB). */
const SIZES = [1, 2, 7, 64, 100, 511, 1024, 1500, 4096, 9000, 16385, 32768, 65536];
const WEIGHTS = [6, 4, 8, 16, 10, 8, 10, 8, 8, 4, 2, 1, 1];
/** http requests have one size a run (their Content-Length): one size a segment, in turn, 1 B to 64 KiB. */
const HTTP_SIZES = [1, 64, 511, 1500, 4096, 9000, 16385, 65536, 7, 1024];
/** Chat frames: the smallest a chat frame can carry (sender, sequence, send time) up to 64 KiB, one size a segment. */
const CHAT_SIZES = [16, 64, 1024, 16_384, 65_536];
/** A chat sender's rate: CHAT.rateHz, lowered for large frames so the room's deliveries stay near CHAT_BYTES_PER_SEC (a soak, not an overload). */
const CHAT_BYTES_PER_SEC = 100e6;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? fallback : fallback;
}

const models = flag("model", MODELS.map((m) => m.name).join(",")).split(",");
const protocols = flag("protocol", "echo,http,chat").split(",") as Protocol[];
const target = Number(flag("messages", "10000000"));
const limitSec = Number(flag("limit-sec", "540"));
/** How often the injector resets a connection, ms. */
const RESET_EVERY_MS = Number(flag("reset-every-ms", "10"));
/**
 * One segment of load, seconds (a new room, and a fresh client, each time):
 * 20, or 10 for http, so that a round of its ten sizes takes 100 s as
 * chat's five do.
 */
function segmentSec(protocol: Protocol): number {
  return Number(flag("segment-sec", protocol === "http" ? "10" : "20"));
}

/** Segments a round of sizes takes: echo draws every size within a segment; http and chat take one size a segment. */
function roundSegments(protocol: Protocol): number {
  return protocol === "echo" ? 1 : protocol === "http" ? HTTP_SIZES.length : CHAT_SIZES.length;
}
const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-soak-"));
const cpus = cpuPair();

function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Part of a message, then RST: what a client that dies mid-request leaves a server. */
function injector(port: number, protocol: Protocol): { stop: () => number } {
  let count = 0;
  const partial =
    protocol === "http"
      ? Buffer.from("POST /echo HTTP/1.1\r\nContent-Length: 4096\r\n\r\nhalf a body")
      : protocol === "chat"
        ? Buffer.from([0, 0, 16, 0, 1, 2, 3]) // a frame header announcing 4096 bytes, then three
        : Buffer.alloc(3000, 0x5a);
  if (!(RESET_EVERY_MS > 0)) return { stop: () => 0 };
  const timer = setInterval(() => {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => undefined);
    s.once("connect", () => {
      s.write(partial, () => {
        s.resetAndDestroy();
        count++;
      });
    });
  }, RESET_EVERY_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return count;
    },
  };
}

/** The load of segment n as a scenario file: echo draws its sizes per message, http has one size a segment. */
function scenarioFile(protocol: "echo" | "http", n: number): string {
  const file = path.join(out, `soak-${protocol}.json`);
  const scenario = {
    name: `soak-${protocol}`,
    sessions: SESSIONS,
    messageSize: protocol === "echo" ? { choice: SIZES.map((bytes, i) => ({ bytes, weight: WEIGHTS[i]! })) } : HTTP_SIZES[n % HTTP_SIZES.length]!,
    messagesPerSession: 200,
    timeoutMs: 10_000,
    server: { protocol },
  };
  fs.writeFileSync(file, JSON.stringify(scenario));
  return file;
}

/** One segment of load against the running server (its own process, so the injector keeps running here); its results. */
async function segment(server: StartedServer, model: string, protocol: Protocol, n: number): Promise<ResultsFile> {
  const common = ["--target", `127.0.0.1:${server.port}`, "--server-pid", String(server.pid), "--model", model, "--duration", String(segmentSec(protocol)), "--warmup", "0", "--repeats", "1"];
  const frame = CHAT_SIZES[n % CHAT_SIZES.length]!;
  const rateHz = Math.min(CHAT.rateHz, CHAT_BYTES_PER_SEC / (frame * CHAT.members * CHAT.senders));
  const load =
    protocol === "chat"
      ? ["--protocol", "chat", "--connections", String(CHAT.members), "--senders", String(CHAT.senders), "--rate-per-session", rateHz.toFixed(2), "--size", String(frame)]
      : ["--scenario", scenarioFile(protocol, n), ...(protocol === "http" ? ["--http-method", "POST"] : [])];
  const [cmd, args] = guarded(process.execPath, [path.join(ROOT, "dist/cli/main.js"), "bench", ...common, ...load, ...(cpus.client === "" ? [] : ["--client-cpus", cpus.client]), "--json", "--out", out]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  await new Promise((resolve) => child.once("close", resolve));
  if (stdout.trim() === "") throw new Error(`segment ${n + 1}: no results: ${stderr.trim().split("\n").at(-1) ?? ""}`);
  return JSON.parse(stdout) as ResultsFile;
}

interface Soak {
  model: string;
  protocol: Protocol;
  messages: number;
  segments: number;
  seconds: number;
  errors: Record<string, number>;
  chatProblems: number;
  failedRuns: string[];
  resets: number;
  rssBeforeMb: number;
  /** RSS and messages counted at the end of the first round of sizes. */
  rssFirstMb: number;
  messagesFirst: number;
  rssEndMb: number;
  fdsBefore: number;
  fdsAfter: number;
}

async function soak(model: string, protocol: Protocol): Promise<Soak> {
  // The blocking model serves one session a thread: enough threads for every session and a few injected connections.
  const threads = model === "blocking" ? (protocol === "chat" ? CHAT.members : SESSIONS) + 16 : 2;
  // chat: frames up to 64 KiB, and a backlog that holds a few of them.
  const chat = protocol === "chat" ? { maxFrameBytes: Math.max(...CHAT_SIZES), bufferBytes: 4 * Math.max(...CHAT_SIZES) } : {};
  const server = await startModelServer(model, threads, cpus.server, protocol, undefined, chat);
  const t0 = performance.now();
  const s: Soak = {
    model, protocol, messages: 0, segments: 0, seconds: 0, errors: {}, chatProblems: 0, failedRuns: [], resets: 0,
    rssBeforeMb: 0, rssFirstMb: 0, messagesFirst: 0, rssEndMb: 0, fdsBefore: fdCount(server.pid), fdsAfter: 0,
  };
  const rss = (): number => (readRssBytes(server.pid) ?? NaN) / 2 ** 20;
  try {
    await sleep(500);
    s.fdsBefore = fdCount(server.pid);
    s.rssBeforeMb = rss();
    const inject = injector(server.port, protocol);
    const round = roundSegments(protocol);
    try {
      // Two rounds at least: growth is measured over the second.
      while ((s.messages < target || s.segments < 2 * round) && (performance.now() - t0) / 1000 + segmentSec(protocol) + 10 < limitSec) {
        const results = await segment(server, model, protocol, s.segments);
        s.segments++;
        for (const run of results.runs) {
          if (run.status === "failed") s.failedRuns.push(run.error);
          const f = run.figures;
          if (f === null) continue;
          s.messages += f.messages;
          for (const [kind, n] of Object.entries(f.errorsTotal)) if (kind !== "total") s.errors[kind] = (s.errors[kind] ?? 0) + n;
          if (f.chat !== undefined) s.chatProblems += f.chat.missing + f.chat.outOfOrder + f.chat.broken;
        }
        if (s.segments === round) {
          s.rssFirstMb = rss();
          s.messagesFirst = s.messages;
        }
        const last = results.runs.at(-1);
        const detail = last?.figures?.chat !== undefined ? ` (frame ${last.config.sizeBytes} B: ${JSON.stringify(last.figures.chat)})` : last !== undefined ? ` (${last.config.sizeBytes} B max)` : "";
        process.stderr.write(`soak ${model} ${protocol}: segment ${s.segments}: ${s.messages} messages so far, server RSS ${rss().toFixed(1)} MiB${detail}\n`);
      }
    } finally {
      s.resets = inject.stop();
    }
    // Every connection is gone once the server has closed what the injector and the clients left.
    for (let i = 0; i < 50 && fdCount(server.pid) !== s.fdsBefore; i++) await sleep(100);
    s.fdsAfter = fdCount(server.pid);
    s.rssEndMb = rss();
  } finally {
    await server.stop();
  }
  s.seconds = (performance.now() - t0) / 1000;
  return s;
}

function verdict(s: Soak): string[] {
  const problems: string[] = [];
  if (s.messages < target) problems.push(`only ${s.messages} messages within ${limitSec} s`);
  const rounds = Math.floor(s.segments / roundSegments(s.protocol));
  if (rounds < 2) problems.push(`${rounds} round(s) of sizes within ${limitSec} s: growth is measured over the second`);
  if ((s.errors["mismatch"] ?? 0) > 0) problems.push(`${s.errors["mismatch"]} mismatches`);
  if (s.chatProblems > 0) problems.push(`${s.chatProblems} chat deliveries missing, out of order or broken`);
  if (s.failedRuns.length > 0) problems.push(`failed run: ${s.failedRuns[0]}`);
  if (s.fdsAfter !== s.fdsBefore) problems.push(`fds ${s.fdsBefore} -> ${s.fdsAfter}`);
  const growthMb = s.rssEndMb - s.rssFirstMb;
  if (!(growthMb <= RSS_GROWTH_BOUND_MB)) {
    const perMessage = (growthMb * 2 ** 20) / Math.max(1, s.messages - s.messagesFirst);
    problems.push(`RSS grew ${growthMb.toFixed(1)} MiB after the first round of sizes (bound ${RSS_GROWTH_BOUND_MB}), ${perMessage.toFixed(1)} bytes a later message`);
  }
  return problems;
}

const rows: string[] = [];
let failed = 0;
for (const model of models) {
  for (const protocol of protocols) {
    const s = await soak(model, protocol);
    const problems = verdict(s);
    if (problems.length > 0) failed++;
    const errors = Object.entries(s.errors).map(([k, n]) => `${k} ${n}`).join(", ");
    rows.push(
      `| ${s.model} | ${s.protocol} | ${s.messages.toLocaleString("en")} | ${s.errors["mismatch"] ?? 0}${s.protocol === "chat" ? ` (+${s.chatProblems} missing/out of order/broken)` : ""} | ${errors} | ${s.resets.toLocaleString("en")} | ` +
        `${s.rssBeforeMb.toFixed(1)} / ${s.rssFirstMb.toFixed(1)} / ${s.rssEndMb.toFixed(1)} | ${s.fdsBefore} / ${s.fdsAfter} | ${s.seconds.toFixed(0)} s | ${problems.length === 0 ? "ok" : `FAIL: ${problems.join("; ")}`} |`,
    );
    process.stdout.write(`${rows.at(-1)!}\n`);
  }
}
process.stdout.write(
  `\n| model | protocol | messages | mismatches | errors by kind (client) | resets injected | server RSS MiB: before / after 1st round / end | server fds before / after | time | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n${rows.join("\n")}\n`,
);
fs.rmSync(out, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
