/**
 * The conformance suite as data: for each protocol, the checks any server
 * speaking it must pass (iobench's five models do). A check drives the
 * server with small independent clients (net.ts) and either resolves with
 * what it saw working or throws what it saw going wrong; runChecks turns
 * that into one result per check, never a thrown error. `iobench conform`
 * prints them; the project's own conformance tests run the same checks
 * against every model (and add what only a server iobench started can
 * show: its stderr, its counters, its exit).
 */
import type { Target } from "./net.js";

/** The protocols the suite knows. */
export type ConformProtocol = "echo" | "chat" | "http" | "chat-raw";

/** What a check knows about the server beyond its address. */
export interface ConformContext {
  target: Target;
  /** Resident memory of the server (its whole process tree), bytes; undefined when not known (an outside server without --server-pid). */
  serverRssBytes?: () => number | undefined;
  /** chat: the largest frame payload the server takes (a longer one must close the connection). */
  maxFrameBytes: number;
}

/** One check: `run` resolves with what it saw (pass) or throws what went wrong (fail). */
export interface Check {
  /** Short name, printed and accepted by --only. */
  id: string;
  /** What passing means, in a few words. */
  title: string;
  run(ctx: ConformContext): Promise<string>;
  /** The longest the check may take, ms: past it, it fails (default CHECK_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** The outcome of one check. */
export interface CheckResult {
  id: string;
  title: string;
  ok: boolean;
  /** Pass: what was seen working. Fail: what was seen going wrong. */
  detail: string;
  ms: number;
}

/** Default time limit of a check, ms. */
export const CHECK_TIMEOUT_MS = 60_000;

/** A check failing because of what the server did (not a bug of the check). */
export class CheckFailure extends Error {
  override readonly name = "CheckFailure";
}

/** Fails the check with `seen` unless `ok`. */
export function expect(ok: boolean, seen: () => string): asserts ok {
  if (!ok) throw new CheckFailure(seen());
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" ");
}

/** Runs one check within its time limit; never throws. */
export async function runCheck(check: Check, ctx: ConformContext): Promise<CheckResult> {
  const limit = check.timeoutMs ?? CHECK_TIMEOUT_MS;
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CheckFailure(`did not finish within ${limit / 1000} s`)), limit);
  });
  try {
    const detail = await Promise.race([check.run(ctx), timeout]);
    return { id: check.id, title: check.title, ok: true, detail, ms: performance.now() - t0 };
  } catch (err) {
    return { id: check.id, title: check.title, ok: false, detail: message(err), ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs checks one after another against one server, handing each result over as it comes. */
export async function runChecks(checks: readonly Check[], ctx: ConformContext, onResult: (r: CheckResult) => void = () => undefined): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const r = await runCheck(check, ctx);
    results.push(r);
    onResult(r);
  }
  return results;
}

/** One line per result: "pass  id  detail (1.2 s)" or "FAIL  id  what was seen". */
export function resultLine(r: CheckResult): string {
  return `${r.ok ? "pass" : "FAIL"}  ${r.id.padEnd(18)} ${r.ok ? r.detail : `${r.title}: ${r.detail}`} (${(r.ms / 1000).toFixed(1)} s)`;
}

/** "server memory +1.2 MiB" (or −0.4: a server may give memory back meanwhile). */
export function memoryChange(beforeBytes: number, afterBytes: number): string {
  const mib = (afterBytes - beforeBytes) / (1024 * 1024);
  return `server memory ${mib < 0 ? "−" : "+"}${Math.abs(mib).toFixed(1)} MiB`;
}
