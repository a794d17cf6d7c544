/**
 * The effective scenario: the scenario a run actually used, after the
 * command line overrode its fields, written back in the scenario file
 * format so results.json says exactly what load was applied and a file
 * holding it repeats the run.
 */
import type { SizeSpec } from "../contracts/client.js";
import type { BenchOptions } from "../reports/schema.js";
import { formatWork } from "../contracts/work.js";
import type { MessageSize, Scenario, ScenarioServer } from "./format.js";

/** A SizeSpec (or fixed sizes) in the file format's messageSize shape. */
export function messageSizeOf(sizesBytes: readonly number[], distribution: SizeSpec | null): MessageSize {
  if (distribution !== null) {
    if (distribution.kind === "uniform") return { uniform: { minBytes: distribution.minBytes, maxBytes: distribution.maxBytes } };
    if (distribution.kind === "choice") return { choice: distribution.bytes.map((bytes, i) => ({ bytes, weight: distribution.weights[i] ?? 0 })) };
    return distribution.bytes;
  }
  return sizesBytes.length === 1 ? (sizesBytes[0] as number) : [...sizesBytes];
}

/** `base` with every field the options decide replaced by the options' value. */
export function effectiveScenario(base: Scenario, o: BenchOptions): Scenario {
  const l = o.load;
  const work = o.work === undefined || o.work === null ? null : formatWork(o.work);
  // An external server (--target) is not the scenario's to describe: only its protocol and work are.
  const server: ScenarioServer =
    o.target !== null
      ? { protocol: l.protocol, work }
      : {
          models: [...o.models],
          ...(o.threads.length > 0 ? { threads: [...o.threads] } : {}),
          protocol: l.protocol,
          work,
          accept: o.accept,
          bufferBytes: o.bufferBytes,
        };
  const s: Scenario = {
    name: base.name,
    ...(base.description !== undefined ? { description: base.description } : {}),
    sessions: o.connections.length === 1 ? (o.connections[0] as number) : [...o.connections],
    rampUpSec: l.rampUpSec,
    connectRatePerSec: l.connectRatePerSec,
    messageSize: messageSizeOf(o.sizesBytes, l.sizeDistribution),
    messagesPerSession: l.messagesPerSession === 0 ? "forever" : l.messagesPerSession,
    thinkTimeMs: l.thinkTimeMs,
    loop: l.loop,
    ...(l.ratePerSessionPerSec !== null ? { ratePerSessionPerSec: l.ratePerSessionPerSec } : {}),
    ...(l.rateTotalPerSec !== null ? { rateTotalPerSec: l.rateTotalPerSec } : {}),
    warmupSec: o.warmupSec,
    durationSec: o.durationSec,
    timeoutMs: o.timeoutMs,
    ...(o.chat !== undefined ? { senders: o.chat.senders } : {}),
    server,
    ...(o.servers !== undefined && o.target === null ? { servers: o.servers } : {}),
  };
  return s;
}
