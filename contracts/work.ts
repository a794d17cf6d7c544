/**
 * Per-message server work (`--work`) as data: the spec a user writes, as
 * it crosses from the command line (and scenario files) to the server
 * process and into results.json. What a server does with it is
 * protocol/work.ts.
 */

/** A parsed `--work` value: what to do per message. */
export interface WorkSpec {
  kind: "cpu" | "block";
  /** CPU time to use (cpu) or time to stay blocked (block), µs. */
  durationUs: number;
}

/** The work a server does, and the message size it counts bytes in. Plain data: it crosses to worker threads. */
export interface MessageWork extends WorkSpec {
  /** Bytes that make one message on a connection (the run's message size). */
  messageBytes: number;
}

/** The longest work per message accepted: past this a run would only measure the work. */
const MAX_DURATION_US = 10_000_000;

const UNIT_US: Record<string, number> = { us: 1, µs: 1, μs: 1, ms: 1000, s: 1_000_000 };

/** A time with its unit ("850us", "2ms", "1.5s"; µs or μs too) in µs, or null when it is not one. */
export function durationUs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Zµμ]+)$/.exec(text.trim());
  const unit = m === null ? undefined : UNIT_US[m[2]!.toLowerCase()];
  return unit === undefined ? null : Number(m![1]) * unit;
}

/** Parses a `--work` value; throws one line naming the problem. "none" (or "") means no work: null. */
export function parseWork(text: string): WorkSpec | null {
  const t = text.trim();
  if (t === "" || t.toLowerCase() === "none") return null;
  const m = /^(cpu|block):\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Zµμ]*)$/.exec(t);
  if (m === null) return badWork(text, "expected cpu:<time> or block:<time>, e.g. cpu:200us or block:20ms");
  const kind = m[1] as WorkSpec["kind"];
  const unitText = m[3]!.toLowerCase();
  const unit = unitText === "" ? (kind === "cpu" ? 1 : 1000) : UNIT_US[unitText];
  if (unit === undefined) return badWork(text, `unknown unit '${m[3]}' (us, µs, ms or s)`);
  const durationUs = Number(m[2]) * unit;
  if (!(durationUs > 0)) return badWork(text, "the time must be above 0 (use none for no work)");
  if (durationUs > MAX_DURATION_US) return badWork(text, `at most ${MAX_DURATION_US / 1_000_000} s per message`);
  return { kind, durationUs };
}

function badWork(text: string, why: string): never {
  throw new Error(`--work '${text}': ${why}`);
}

/** The spec as the user would write it: "cpu:200us", "block:20ms", or "none". */
export function formatWork(work: WorkSpec | null): string {
  if (work === null) return "none";
  const us = work.durationUs;
  return us >= 1000 && us % 1000 === 0 ? `${work.kind}:${us / 1000}ms` : `${work.kind}:${us}us`;
}

/** Checks work arriving as JSON (the server process's options); throws one line. */
export function checkMessageWork(work: unknown): MessageWork | null {
  if (work === null || work === undefined) return null;
  const w = work as Partial<MessageWork>;
  const ok =
    typeof work === "object" &&
    (w.kind === "cpu" || w.kind === "block") &&
    typeof w.durationUs === "number" &&
    w.durationUs > 0 &&
    w.durationUs <= MAX_DURATION_US &&
    Number.isSafeInteger(w.messageBytes) &&
    (w.messageBytes ?? 0) >= 1;
  if (!ok) throw new Error(`work must be null or {kind: "cpu"|"block", durationUs, messageBytes}, not ${JSON.stringify(work)}`);
  return { kind: w.kind!, durationUs: w.durationUs!, messageBytes: w.messageBytes! };
}
