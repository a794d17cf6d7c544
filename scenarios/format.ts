/**
 * The scenario file format: what load to apply, how long, and what the
 * server does per message. A scenario is a JSON file, or a module whose
 * default export is a `Scenario` (the built-ins under scenarios/builtin/
 * are TypeScript modules). Every field but name, sessions and messageSize
 * is optional and defaults to the seed's pattern (closed loop, connect
 * once, no pauses). Command-line flags override any field.
 *
 * The fields, their types and ranges are the scenario schema of
 * reports/schema.ts (published as schemas/scenario.schema.json);
 * validateScenario checks a parsed file against it, then the rules a
 * schema cannot say (a size's unit within range, fields that go together),
 * and throws one line naming the file, the field and what it may be.
 * Unknown fields are errors, so a misspelt field is never silently ignored.
 */
import { UsageError, oneLine } from "../contracts/errors.js";
import { parseWork } from "../contracts/work.js";
import { MAX_MESSAGE_BYTES, MAX_BUFFER_BYTES, sizeValue } from "../contracts/limits.js";
import { ScenarioSchema, type Scenario, type ScenarioServer } from "../reports/schema.js";
import { firstProblem, show } from "../reports/validate.js";

export type { MessageSize, Scenario, ScenarioServer } from "../reports/schema.js";
export { sizeValue } from "../contracts/limits.js";

/** A size a unit put out of range ("1G" where the most is 256 MiB), which the schema's pattern cannot see. */
function sizeProblem(v: unknown, max: number): boolean {
  const n = sizeValue(v);
  return !(n >= 1 && n <= max);
}

/**
 * Checks a parsed scenario file and returns it typed. `file` names it in
 * errors; `modelNames` are the models (and aliases) a scenario may name.
 */
export function validateScenario(raw: unknown, file: string, modelNames: readonly string[]): Scenario {
  const fail = (field: string, problem: string): never => {
    throw new UsageError(`scenario ${file}: field "${field}" ${problem}`);
  };
  const p = firstProblem(ScenarioSchema, raw, "scenario");
  if (p !== null) fail(p.field, p.text);
  const o = raw as Scenario;
  const sizeRange = `must be a size in bytes from 1 to ${MAX_MESSAGE_BYTES} (64, "4k", "1M")`;
  const m = o.messageSize;
  const sizes: [string, unknown][] =
    typeof m !== "object"
      ? [["messageSize", m]]
      : Array.isArray(m)
        ? m.map((x, i) => [`messageSize[${i}]`, x])
        : "uniform" in m
          ? [["messageSize.uniform.minBytes", m.uniform.minBytes], ["messageSize.uniform.maxBytes", m.uniform.maxBytes]]
          : m.choice.map((c, i) => [`messageSize.choice[${i}].bytes`, c.bytes]);
  for (const [field, v] of sizes) if (sizeProblem(v, MAX_MESSAGE_BYTES)) fail(field, `${sizeRange}, got ${show(v)}`);
  if (typeof m === "object" && !Array.isArray(m)) {
    if ("uniform" in m && sizeValue(m.uniform.minBytes) > sizeValue(m.uniform.maxBytes)) fail("messageSize.uniform", "minBytes must not be above maxBytes");
    if ("choice" in m && !m.choice.some((c) => c.weight > 0)) fail("messageSize.choice", "needs a weight above 0");
  }
  const loop = o.loop ?? "closed";
  const rates = (o.ratePerSessionPerSec !== undefined ? 1 : 0) + (o.rateTotalPerSec !== undefined ? 1 : 0);
  if (loop === "open" && rates !== 1) fail("loop", 'is "open": give exactly one of ratePerSessionPerSec and rateTotalPerSec');
  if (loop === "closed" && rates !== 0) fail(o.ratePerSessionPerSec !== undefined ? "ratePerSessionPerSec" : "rateTotalPerSec", 'applies to loop "open" only');
  if (loop === "open" && o.thinkTimeMs !== undefined && o.thinkTimeMs !== 0) fail("thinkTimeMs", 'applies to loop "closed" only (the open loop paces by its rate)');
  const s: ScenarioServer = o.server ?? {};
  // A command model is named cmd:NAME once the scenario's servers section declares NAME.
  const names = [...modelNames, "all", ...Object.keys(o.servers ?? {}).map((n) => `cmd:${n}`)];
  s.models?.forEach((name, i) => {
    if (!names.includes(name)) fail(`server.models[${i}]`, `must be one of ${names.map((n) => JSON.stringify(n)).join(", ")}; got ${show(name)}`);
  });
  if (typeof s.work === "string") {
    try {
      parseWork(s.work);
    } catch (err) {
      fail("server.work", `must be "cpu:<time>" or "block:<time>" (e.g. "cpu:50us", "block:2ms") or null: ${oneLine(err)}`);
    }
  }
  if (s.bufferBytes !== undefined && sizeProblem(s.bufferBytes, MAX_BUFFER_BYTES)) fail("server.bufferBytes", `must be a size in bytes from 1 to ${MAX_BUFFER_BYTES} (64, "4k", "1M"), got ${show(s.bufferBytes)}`);
  if (o.senders !== undefined && s.protocol !== "chat") fail("senders", 'applies to server.protocol "chat" only');
  return o;
}
