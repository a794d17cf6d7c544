/**
 * Turning flag text into checked values. Every function throws UsageError
 * with one line naming the flag and quoting what was given, so a typo is
 * never silently read as a default or as NaN.
 */
import net from "node:net";
import { UsageError } from "../contracts/errors.js";
import { sizeValue } from "../contracts/limits.js";
import { MODELS, findModel, isCommandModel } from "../servers/models.js";
import { MAX_THREADS } from "../servers/options.js";
import { COMMAND_PREFIX, type CommandModelName, type ModelName } from "../contracts/server.js";

/** What yargs hands over for a string flag: absent, once, or repeated. */
export type RawFlag = string | string[] | number | boolean | undefined;

/** The flag's value; the last one when repeated; undefined when absent. */
export function scalar(raw: RawFlag): string | undefined {
  if (raw === undefined) return undefined;
  const v = Array.isArray(raw) ? raw.at(-1) : raw;
  return v === undefined ? undefined : String(v);
}

/** A list flag's items: repeats and commas both separate ("1,2 --threads 4" = [1, 2, 4]); undefined when absent. */
export function list(flag: string, raw: RawFlag): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(",")).map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === "")) throw new UsageError(`--${flag} has an empty item: '${String(raw)}'`);
  return items;
}

/** An integer in [min, max]. */
export function integer(flag: string, text: string, min: number, max: number): number {
  const n = /^[+]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${flag} must be a whole number, got '${text}'`);
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A decimal number in [min, max] (minExclusive: strictly above min). */
export function decimal(flag: string, text: string, min: number, max: number, minExclusive = false): number {
  const n = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got '${text}'`);
  if (n > max || (minExclusive ? n <= min : n < min)) {
    throw new UsageError(`--${flag} must be ${minExclusive ? "above" : "at least"} ${min} and at most ${max}, got ${n}`);
  }
  return n;
}

/** A byte count: 64, 4k, 1MiB, 1G (k, M and G are powers of 1024; the same rule as scenario files), in [min, max]. */
export function bytes(flag: string, text: string, min: number, max: number): number {
  const n = sizeValue(text);
  if (Number.isNaN(n)) throw new UsageError(`--${flag} must be a byte count like 64, 4k, 1M or 1G, got '${text}'`);
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max} bytes, got '${text}'`);
  return n;
}

/** A numeric IPv4/IPv6 address (servers bind numeric addresses only). */
export function numericHost(flag: string, text: string): string {
  if (net.isIP(text) === 0) throw new UsageError(`--${flag} must be a numeric IP address like 127.0.0.1 or ::1, got '${text}'`);
  return text;
}

/**
 * "all", or a list of model names and aliases, as canonical names without
 * duplicates. `commands` are the declared command models (NAMEs): cmd:NAME
 * names one, and "all" takes them too.
 */
export function models(raw: RawFlag, commands: ReadonlySet<string> | null = null): (ModelName | CommandModelName)[] {
  const items = list("model", raw) ?? ["all"];
  const names: (ModelName | CommandModelName)[] = [];
  for (const item of items) {
    if (item.toLowerCase() === "all") {
      names.push(...MODELS.map((m) => m.name), ...[...(commands ?? [])].map((c): CommandModelName => `${COMMAND_PREFIX}${c}`));
      continue;
    }
    if (isCommandModel(item)) {
      const name = item.slice(COMMAND_PREFIX.length);
      if (commands === null) throw new UsageError(`${item}: command models run under bench and conform; serve runs iobench's own models`);
      if (!commands.has(name)) throw new UsageError(`unknown model '${item}': declare it with --server-cmd ${name}='./my-server --port {port} --threads {threads}'`);
      names.push(item);
      continue;
    }
    const info = findModel(item);
    if (info === undefined) throw new UsageError(`unknown model '${item}' (models: ${modelList()}, or all)`);
    names.push(info.name);
  }
  return [...new Set(names)];
}

/** "blocking, completion-routine (apc), ..." for messages and --help. */
export function modelList(): string {
  return MODELS.map((m) => (m.aliases.length > 0 ? `${m.name} (${m.aliases.join(", ")})` : m.name)).join(", ");
}

/** One --threads item: a count or "per-connection". */
export function threadsSetting(text: string): number | "per-connection" {
  if (text.toLowerCase() === "per-connection") return "per-connection";
  return integer("threads", text, 1, MAX_THREADS);
}

/** "host:port" or "[v6]:port" into its parts; the host may be a name (resolved later). */
export function hostPort(flag: string, text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`--${flag} must be host:port (or [ipv6]:port), got '${text}'`);
  return { host: m[1]!, port: integer(flag, m[2]!, 1, 65535) };
}

/**
 * A Redis URL, redis://host[:port][/db] (rediss:// for TLS), as written
 * to results.json. A password stays out of it (and so out of every
 * results file): it comes from IOBENCH_REDIS_PASSWORD.
 */
export function redisUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--${flag} must be a Redis URL like redis://10.0.0.5:6379, got '${text}'`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new UsageError(`--${flag} must be a redis:// (or rediss://) URL, got '${text}'`);
  if (url.hostname === "") throw new UsageError(`--${flag} needs a host: redis://HOST:PORT`);
  if (url.password !== "") throw new UsageError(`--${flag}: give the Redis password in IOBENCH_REDIS_PASSWORD, not in the URL (results.json records the URL)`);
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw new UsageError(`--${flag}: the database after the port must be a number, got '${db}'`);
  return `${url.protocol}//${url.username !== "" ? `${url.username}@` : ""}${url.host}${db !== "" ? `/${db}` : ""}`;
}
