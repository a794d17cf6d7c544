/**
 * The bench flags that script the sessions (--scenario's fields and the
 * flags that override them): ramp-up, connect rate, sizes, messages per
 * session, think time, open or closed loop. Scenario fields become flag
 * text, so one set of checks covers both.
 */
import type { SizeSpec } from "../contracts/client.js";
import type { LoadOptions, MessageSize } from "../reports/schema.js";
import { UsageError } from "../contracts/errors.js";
import { sizeValue } from "../scenarios/format.js";
import type { LoadedScenario } from "../scenarios/load.js";
import { decimal, integer, scalar } from "./parse.js";
import type { RawFlag } from "./parse.js";
import type { RateChoice } from "./rate-options.js";

/** Scenario fields as flag text, so the flag parsers check them the same way (a flag given wins). */
export function scenarioDefaults(loaded: LoadedScenario | null): Record<string, string | string[] | undefined> {
  const sc = loaded?.scenario;
  if (sc === undefined) return {};
  const server = sc.server ?? {};
  const str = (v: number | string | undefined): string | undefined => (v === undefined ? undefined : String(v));
  return {
    model: server.models,
    threads: server.threads?.map(String),
    connections: Array.isArray(sc.sessions) ? sc.sessions.map(String) : [String(sc.sessions)],
    duration: str(sc.durationSec),
    warmup: str(sc.warmupSec),
    timeout: str(sc.timeoutMs),
    buffer: str(server.bufferBytes),
    accept: server.accept,
    "ramp-up": str(sc.rampUpSec),
    "connect-rate": str(sc.connectRatePerSec),
    "messages-per-session": str(sc.messagesPerSession),
    "think-time": str(sc.thinkTimeMs),
    work: server.work ?? undefined,
    senders: str(sc.senders),
    protocol: server.protocol,
  };
}

/** A scenario's messageSize as fixed sizes (a sweep) or a per-message distribution. */
export function scenarioSizes(size: MessageSize): { sizes: string[]; distribution: SizeSpec | null } {
  if (typeof size === "number" || typeof size === "string") return { sizes: [String(size)], distribution: null };
  if (Array.isArray(size)) return { sizes: size.map(String), distribution: null };
  const d = size;
  let spec: SizeSpec;
  if ("uniform" in d) spec = { kind: "uniform", minBytes: sizeValue(d.uniform.minBytes), maxBytes: sizeValue(d.uniform.maxBytes) };
  else spec = { kind: "choice", bytes: d.choice.map((c) => sizeValue(c.bytes)), weights: d.choice.map((c) => c.weight) };
  const max = spec.kind === "uniform" ? spec.maxBytes : Math.max(...spec.bytes);
  return { sizes: [String(max)], distribution: spec };
}

/**
 * The load script from flags and scenario; checks the combinations.
 * `given(flag)` is the flag's value, else the scenario's field as flag text.
 * The loop and rates come from the scenario unless --rate (parsed:
 * `rate`), --rate-per-session or --closed-loop say otherwise; a rate sweep
 * or a search's bounds make the loop open with no single rate here (the
 * options' `rates` and `search` carry them: cli/rate-options.ts).
 */
export function loadOptions(
  args: Record<string, RawFlag>,
  given: (flag: string) => RawFlag,
  loaded: LoadedScenario | null,
  distribution: SizeSpec | null,
  rate: RateChoice | undefined,
): LoadOptions {
  const sc = loaded?.scenario;
  const text = (flag: string): string | undefined => scalar(given(flag));
  const perSessionText = text("messages-per-session");
  const messagesPerSession =
    perSessionText === undefined || perSessionText.toLowerCase() === "forever" ? 0 : integer("messages-per-session", perSessionText, 1, 2 ** 31 - 1);
  const thinkTimeMs = decimal("think-time", text("think-time") ?? "0", 0, 3_600_000);

  const perSessionFlag = scalar(args["rate-per-session"]);
  if (rate !== undefined && perSessionFlag !== undefined) throw new UsageError("give one of --rate (in total) and --rate-per-session, not both");
  let loop: "closed" | "open" = sc?.loop ?? "closed";
  let ratePerSessionPerSec = sc?.ratePerSessionPerSec ?? null;
  let rateTotalPerSec = sc?.rateTotalPerSec ?? null;
  if (rate !== undefined || perSessionFlag !== undefined) {
    if (args["closed-loop"] === true) throw new UsageError("--closed-loop and --rate/--rate-per-session contradict each other");
    loop = "open";
    ratePerSessionPerSec = perSessionFlag === undefined ? null : decimal("rate-per-session", perSessionFlag, 0, 1_000_000, true);
    rateTotalPerSec = rate?.kind === "single" ? rate.perSec : null;
  } else if (args["closed-loop"] === true) {
    loop = "closed";
  }
  if (loop === "closed") {
    ratePerSessionPerSec = null;
    rateTotalPerSec = null;
  } else if (thinkTimeMs > 0) {
    throw new UsageError("--think-time applies to the closed loop only; the open loop paces by its rate (give --think-time 0 or --closed-loop)");
  }
  return {
    rampUpSec: decimal("ramp-up", text("ramp-up") ?? "0", 0, 3600),
    connectRatePerSec: decimal("connect-rate", text("connect-rate") ?? "0", 0, 10_000_000),
    sizeDistribution: distribution,
    messagesPerSession,
    thinkTimeMs,
    loop,
    ratePerSessionPerSec,
    rateTotalPerSec,
    protocol: sc?.server?.protocol ?? "echo",
  };
}
