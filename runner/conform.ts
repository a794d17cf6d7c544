/**
 * `iobench conform`'s run: start the server when iobench is to start it (a
 * built-in model, or a command model), run the checks of the protocol
 * against it one after another, then stop it. Stopping is a check of its
 * own for a server iobench started: it must end on SIGTERM within the
 * grace period, as the runner will ask it to after every run.
 */
import type { ServerOptions } from "../contracts/server.js";
import { oneLine } from "../contracts/errors.js";
import { runChecks, type Check, type CheckResult, type ConformContext } from "../clients/conform/suite.js";
import { CommandServer, type CommandSpec } from "./command-server.js";
import { readRssBytes } from "./proc.js";
import { ServerProcess, ServerStartError } from "./server-process.js";
import type { ServerExit } from "../reports/schema.js";

/** The server to check. */
export type ConformServer =
  | { kind: "target"; host: string; port: number; pid: number | null }
  | { kind: "model"; options: ServerOptions; startTimeoutMs: number }
  | { kind: "command"; spec: CommandSpec; host: string; threads: number; startTimeoutMs: number };

/** What a started server offers the checks and the stop. */
interface Started {
  host: string;
  port: number;
  rssBytes(): number | undefined;
  deathMessage(): string | null;
  stop(): Promise<ServerExit>;
  stoppedCleanly(exit: ServerExit): boolean;
}

async function start(server: ConformServer): Promise<Started | null> {
  if (server.kind === "target") return null;
  if (server.kind === "model") {
    const s = await ServerProcess.start({ server: server.options, cpus: null, startTimeoutMs: server.startTimeoutMs });
    return {
      host: server.options.host,
      port: s.port,
      rssBytes: () => readRssBytes(s.pid),
      deathMessage: () => s.deathMessage(),
      stop: () => s.stop(),
      stoppedCleanly: (e) => !e.killed && e.code === 0,
    };
  }
  const s = await CommandServer.start({ spec: server.spec, host: server.host, threads: server.threads, cpus: null, startTimeoutMs: server.startTimeoutMs });
  return {
    host: s.host,
    port: s.port,
    rssBytes: () => s.rssBytes(),
    deathMessage: () => s.deathMessage(),
    stop: () => s.stop(),
    stoppedCleanly: (e) => CommandServer.stoppedCleanly(e),
  };
}

function exitText(e: ServerExit): string {
  return e.signal !== null ? `ended by ${e.signal}` : `exit code ${e.code}`;
}

/** The stop check's result for a server iobench started. */
async function stopCheck(s: Started): Promise<CheckResult> {
  const t0 = performance.now();
  const died = s.deathMessage();
  const exit = await s.stop();
  const base = { id: "stop", title: "stops on SIGTERM within 5 s", ms: performance.now() - t0 };
  if (died !== null) return { ...base, ok: false, detail: `the server was gone before the end of the checks: ${died}` };
  if (exit.killed) return { ...base, ok: false, detail: "still running 5 s after SIGTERM: killed with SIGKILL" };
  if (!s.stoppedCleanly(exit)) return { ...base, ok: false, detail: `stopped, but with ${exitText(exit)}` };
  return { ...base, ok: true, detail: `stopped (${exitText(exit)})` };
}

/**
 * Runs `checks` against the server, handing each result to onResult as it
 * comes (the stop of a started server last). Throws ServerStartError when a
 * server iobench was to start does not.
 */
export async function conform(
  server: ConformServer,
  checks: readonly Check[],
  maxFrameBytes: number,
  hooks: { onStart?: (where: string) => void; onResult?: (r: CheckResult) => void } = {},
): Promise<CheckResult[]> {
  let started: Started | null;
  try {
    started = await start(server);
  } catch (err) {
    throw err instanceof ServerStartError ? err : new ServerStartError(oneLine(err));
  }
  const host = started?.host ?? (server.kind === "target" ? server.host : "");
  const port = started?.port ?? (server.kind === "target" ? server.port : 0);
  const targetPid = server.kind === "target" ? server.pid : null;
  const ctx: ConformContext = {
    target: { host, port },
    maxFrameBytes,
  };
  const memory = started?.rssBytes.bind(started) ?? (targetPid !== null ? () => readRssBytes(targetPid) : undefined);
  if (memory !== undefined) ctx.serverRssBytes = memory;
  hooks.onStart?.(host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);
  try {
    const results = await runChecks(checks, ctx, hooks.onResult);
    if (started !== null) {
      const stop = await stopCheck(started);
      started = null;
      results.push(stop);
      hooks.onResult?.(stop);
    }
    return results;
  } finally {
    if (started !== null) await started.stop();
  }
}
