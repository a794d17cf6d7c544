/**
 * The limits every layer checks against, each stated once: the CLI's flags,
 * the scenario loader, the server's own check and the schema all read them
 * here, so a value one of them accepts is never refused by another. Plain
 * constants (no schema library): the server process loads this too.
 */

/** Largest message the client supports, bytes (--size, messageSize). */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Largest per-connection pending-echo limit a server takes, bytes (--buffer, server.bufferBytes, ServerOptions.bufferBytes). */
export const MAX_BUFFER_BYTES = 64 * 1024 * 1024;
/** Largest chat frame payload a server takes, bytes (chat --size, --max-frame, ServerOptions.maxFrameBytes). */
export const MAX_CHAT_FRAME_BYTES = 16 * 1024 * 1024;
/** Longest http header timeout, ms (--header-timeout, ServerOptions.headerTimeoutMs). */
export const MAX_HEADER_TIMEOUT_MS = 3_600_000;
/** Most server threads (--threads, server.threads). */
export const MAX_THREADS = 1024;
/** Most sessions (--connections, sessions). */
export const MAX_SESSIONS = 1_000_000;

/** A size as a file may give it: bytes (64), or a string with a unit ("4k", "1M", "1G"; k, M and G are powers of 1024). */
export const SIZE_PATTERN = "^\\s*[0-9]+\\s*([bB]|[kKmMgG]([bB]|[iI][bB])?)?\\s*$";
const SIZE_RE = new RegExp(SIZE_PATTERN);
const SIZE_UNIT = /[kmg]/;

/** A size given as a number or a string with a unit ("4k" = 4096, "1G" = 1073741824), in bytes; NaN when it is neither. */
export function sizeValue(v: unknown): number {
  if (typeof v === "number") return Number.isInteger(v) ? v : NaN;
  if (typeof v !== "string" || !SIZE_RE.test(v)) return NaN;
  const t = v.trim().toLowerCase();
  const digits = /^[0-9]+/.exec(t)![0];
  const unit = SIZE_UNIT.exec(t.slice(digits.length))?.[0];
  const n = Number(digits) * (unit === undefined ? 1 : 1024 ** (" kmg".indexOf(unit)));
  return Number.isSafeInteger(n) ? n : NaN;
}
