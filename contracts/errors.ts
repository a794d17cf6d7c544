/**
 * Error kinds the command line tells apart: a usage error (the user asked
 * for something that cannot run: exit 2, nothing measured) versus a run
 * failure (exit 1, recorded in results.json). Messages are one line.
 */

/** The user's input cannot work (bad flag value, unknown model, limit too low...). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The first line of an error's message, for one-line reports. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n").find((l) => l.trim() !== "")?.trim() ?? "unknown error";
}

/** A failure the user must hear about (exit 1): a model that cannot load, a server that cannot start. */
export class RunFailure extends Error {
  override readonly name = "RunFailure";
}
