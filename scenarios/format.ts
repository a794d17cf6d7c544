/**
 * The scenario file format: what load to apply, how long, and what the
 * server does per message. A scenario is a JSON file, or a module whose
 * default export is a `Scenario` (the built-ins under scenarios/builtin/
 * are TypeScript modules). Every field but name, sessions and messageSize
 * is optional and defaults to the seed's pattern (closed loop, connect
 * once, no pauses). Command-line flags override any field.
 *
 * validateScenario checks a parsed file field by field and throws one line
 * naming the file, the field and what it may be; unknown fields are
 * errors, so a misspelt field is never silently ignored.
 */
import { UsageError, oneLine } from "../contracts/errors.js";
import { parseWork } from "../contracts/work.js";
import type { Scenario, ScenarioServer } from "../contracts/scenario.js";

/** Fields a scenario may have, in the order the effective scenario lists them. */
export const SCENARIO_FIELDS = [
  "name",
  "description",
  "sessions",
  "rampUpSec",
  "connectRatePerSec",
  "messageSize",
  "messagesPerSession",
  "thinkTimeMs",
  "loop",
  "ratePerSessionPerSec",
  "rateTotalPerSec",
  "warmupSec",
  "durationSec",
  "timeoutMs",
  "senders",
  "server",
] as const satisfies readonly (keyof Scenario)[];

const SERVER_FIELDS = ["models", "threads", "protocol", "work", "accept", "bufferBytes"] as const satisfies readonly (keyof ScenarioServer)[];

/** Bytes per unit of a size string ("4k" = 4096). */
const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 * 1024, mb: 1024 * 1024, mib: 1024 * 1024 };

/** Largest message the client supports, bytes. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** A size given as a number or a string with a unit, in bytes; NaN when it is neither. */
export function sizeValue(v: unknown): number {
  if (typeof v === "number") return Number.isInteger(v) ? v : NaN;
  if (typeof v !== "string") return NaN;
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  return m === null || unit === undefined ? NaN : Number(m[1]) * unit;
}

/** Checks one scenario's fields; every problem is a UsageError naming file and field. */
class Checker {
  constructor(private readonly file: string) {}

  fail(field: string, problem: string): never {
    throw new UsageError(`scenario ${this.file}: field "${field}" ${problem}`);
  }

  object(field: string, v: unknown, allowed: readonly string[]): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(field, `must be an object, got ${show(v)}`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(field === "" ? k : `${field}.${k}`, `is not a scenario field (allowed: ${allowed.join(", ")})`);
    }
    return o;
  }

  number(field: string, v: unknown, min: number, max: number, integer = false): number {
    if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      this.fail(field, `must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}, got ${show(v)}`);
    }
    if (v < min || v > max) this.fail(field, `must be from ${min} to ${max}, got ${v}`);
    return v;
  }

  oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
    if (typeof v !== "string" || !allowed.includes(v as T)) this.fail(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}; got ${show(v)}`);
    return v as T;
  }

  size(field: string, v: unknown): void {
    const n = sizeValue(v);
    if (!(n >= 1 && n <= MAX_MESSAGE_BYTES)) this.fail(field, `must be a size in bytes from 1 to ${MAX_MESSAGE_BYTES} (64, "4k", "1M"), got ${show(v)}`);
  }

  messageSize(v: unknown): void {
    const field = "messageSize";
    if (typeof v === "number" || typeof v === "string") return this.size(field, v);
    if (Array.isArray(v)) {
      if (v.length === 0) this.fail(field, "must not be an empty list");
      v.forEach((x, i) => this.size(`${field}[${i}]`, x));
      return;
    }
    const allowed = 'a size (64, "4k"), a list of sizes, {"uniform": {"minBytes", "maxBytes"}} or {"choice": [{"bytes", "weight"}, ...]}';
    if (typeof v !== "object" || v === null) this.fail(field, `must be ${allowed}, got ${show(v)}`);
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length !== 1 || (keys[0] !== "uniform" && keys[0] !== "choice")) this.fail(field, `must be ${allowed}, got ${show(v)}`);
    if (keys[0] === "uniform") {
      const u = this.object(`${field}.uniform`, o.uniform, ["minBytes", "maxBytes"]);
      this.size(`${field}.uniform.minBytes`, u.minBytes);
      this.size(`${field}.uniform.maxBytes`, u.maxBytes);
      if (sizeValue(u.minBytes) > sizeValue(u.maxBytes)) this.fail(`${field}.uniform`, "minBytes must not be above maxBytes");
      return;
    }
    const list = o.choice;
    if (!Array.isArray(list) || list.length === 0) this.fail(`${field}.choice`, `must be a non-empty list of {"bytes", "weight"}, got ${show(list)}`);
    list.forEach((c, i) => {
      const e = this.object(`${field}.choice[${i}]`, c, ["bytes", "weight"]);
      this.size(`${field}.choice[${i}].bytes`, e.bytes);
      this.number(`${field}.choice[${i}].weight`, e.weight, 0, 1e9);
    });
    if (!list.some((c) => (c as { weight: number }).weight > 0)) this.fail(`${field}.choice`, "needs a weight above 0");
  }
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Checks a parsed scenario file and returns it typed. `file` names it in
 * errors; `modelNames` are the models (and aliases) a scenario may name.
 */
export function validateScenario(raw: unknown, file: string, modelNames: readonly string[]): Scenario {
  const c = new Checker(file);
  const o = c.object("", raw, SCENARIO_FIELDS);
  if (typeof o.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.name)) c.fail("name", `must be a name of letters, digits, '.', '_' or '-', got ${show(o.name)}`);
  if (o.description !== undefined && typeof o.description !== "string") c.fail("description", `must be a string, got ${show(o.description)}`);
  if (Array.isArray(o.sessions)) {
    if (o.sessions.length === 0) c.fail("sessions", "must not be an empty list");
    o.sessions.forEach((s, i) => c.number(`sessions[${i}]`, s, 1, 1_000_000, true));
  } else {
    c.number("sessions", o.sessions, 1, 1_000_000, true);
  }
  if (o.rampUpSec !== undefined) c.number("rampUpSec", o.rampUpSec, 0, 3600);
  if (o.connectRatePerSec !== undefined) c.number("connectRatePerSec", o.connectRatePerSec, 0, 10_000_000);
  c.messageSize(o.messageSize);
  if (o.messagesPerSession !== undefined && o.messagesPerSession !== "forever") {
    if (typeof o.messagesPerSession === "string") c.fail("messagesPerSession", `must be a whole number from 1 or "forever", got ${show(o.messagesPerSession)}`);
    c.number("messagesPerSession", o.messagesPerSession, 1, 2 ** 31 - 1, true);
  }
  if (o.thinkTimeMs !== undefined) c.number("thinkTimeMs", o.thinkTimeMs, 0, 3_600_000);
  const loop = o.loop === undefined ? "closed" : c.oneOf("loop", o.loop, ["closed", "open"] as const);
  if (o.ratePerSessionPerSec !== undefined) c.number("ratePerSessionPerSec", o.ratePerSessionPerSec, 0.001, 1_000_000);
  if (o.rateTotalPerSec !== undefined) c.number("rateTotalPerSec", o.rateTotalPerSec, 0.001, 100_000_000);
  const rates = (o.ratePerSessionPerSec !== undefined ? 1 : 0) + (o.rateTotalPerSec !== undefined ? 1 : 0);
  if (loop === "open" && rates !== 1) c.fail("loop", 'is "open": give exactly one of ratePerSessionPerSec and rateTotalPerSec');
  if (loop === "closed" && rates !== 0) c.fail(o.ratePerSessionPerSec !== undefined ? "ratePerSessionPerSec" : "rateTotalPerSec", 'applies to loop "open" only');
  if (loop === "open" && o.thinkTimeMs !== undefined && o.thinkTimeMs !== 0) c.fail("thinkTimeMs", 'applies to loop "closed" only (the open loop paces by its rate)');
  if (o.warmupSec !== undefined) c.number("warmupSec", o.warmupSec, 0, 3600);
  if (o.durationSec !== undefined) c.number("durationSec", o.durationSec, 0.001, 86_400);
  if (o.timeoutMs !== undefined) c.number("timeoutMs", o.timeoutMs, 1, 3_600_000, true);
  if (o.server !== undefined) {
    const s = c.object("server", o.server, SERVER_FIELDS);
    if (s.models !== undefined) {
      if (!Array.isArray(s.models) || s.models.length === 0) c.fail("server.models", `must be a non-empty list of model names, got ${show(s.models)}`);
      (s.models as unknown[]).forEach((m, i) => c.oneOf(`server.models[${i}]`, m, [...modelNames, "all"]));
    }
    if (s.threads !== undefined) {
      if (!Array.isArray(s.threads) || s.threads.length === 0) c.fail("server.threads", `must be a non-empty list of thread counts, got ${show(s.threads)}`);
      (s.threads as unknown[]).forEach((t, i) => {
        if (t !== "per-connection") c.number(`server.threads[${i}]`, t, 1, 1024, true);
      });
    }
    if (s.protocol !== undefined) c.oneOf("server.protocol", s.protocol, ["echo", "http", "chat"] as const);
    if (s.work !== undefined && s.work !== null) {
      if (typeof s.work !== "string") c.fail("server.work", `must be "cpu:<time>" or "block:<time>" (e.g. "cpu:50us", "block:2ms") or null, got ${show(s.work)}`);
      try {
        parseWork(s.work as string);
      } catch (err) {
        c.fail("server.work", `must be "cpu:<time>" or "block:<time>" (e.g. "cpu:50us", "block:2ms") or null: ${oneLine(err)}`);
      }
    }
    if (s.accept !== undefined) c.oneOf("server.accept", s.accept, ["poll", "ring"] as const);
    if (s.bufferBytes !== undefined) c.size("server.bufferBytes", s.bufferBytes);
  }
  if (o.senders !== undefined) {
    if ((o.server as ScenarioServer | undefined)?.protocol !== "chat") c.fail("senders", 'applies to server.protocol "chat" only');
    c.number("senders", o.senders, 1, 1_000_000, true);
  }
  return o as unknown as Scenario;
}
