/**
 * What the runner drives a run with: iobench's own client, or an outside
 * HTTP load tool (autocannon, wrk) that users already trust, as a
 * cross-check. Every driver has the LoadClient life cycle (start → warm-up
 * → beginMeasure → endMeasure → finish; stop() on error paths) and hands
 * over the same ClientMeasurement, so an outside tool's figures land in
 * results.json in the very same shape as iobench's.
 */
import { isScripted } from "./script.js";
import { missingPackage, optionalPackageDir } from "../contracts/optional.js";
import type { ClientKind, ClientOptions, LoadDriver } from "../contracts/client.js";

/** Starts the load generator `kind` with `opts` (outside tools need opts.http: they speak HTTP only). */
export async function startDriver(kind: ClientKind, opts: ClientOptions): Promise<LoadDriver> {
  if (kind === "iobench") return (await import("./client.js")).LoadClient.start(opts);
  if (opts.http === undefined) throw new Error(`${kind} speaks HTTP only: use --protocol http`);
  if (opts.script !== undefined && isScripted(opts.script)) throw new Error(`${kind} runs its own closed loop: a load script (ramp-up, think time, open loop...) applies to iobench's client only`);
  if (kind === "autocannon") {
    if (optionalPackageDir("autocannon") === null) throw new Error(missingPackage("autocannon"));
    return (await import("./autocannon-client.js")).AutocannonClient.start(opts);
  }
  return (await import("./wrk-client.js")).WrkClient.start(opts);
}
