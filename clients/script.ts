/** Small pure helpers about a LoadScript, shared by the client's main thread and its workers. */
import type { LoadScript, SizeSpec } from "../contracts/client.js";

/** True when the script departs from the seed's plain closed loop anywhere on the message path. */
export function isScripted(script: LoadScript): boolean {
  return script.size !== null || script.messagesPerSession > 0 || script.thinkTimeMs > 0 || script.ratePerSession > 0;
}

/** Largest message a size spec can draw. */
export function maxSize(spec: SizeSpec): number {
  if (spec.kind === "fixed") return spec.bytes;
  if (spec.kind === "uniform") return spec.maxBytes;
  return Math.max(...spec.bytes);
}
