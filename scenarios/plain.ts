/**
 * A scenario module's default export copied into plain data (what a JSON
 * file would hold) before anything reads it, so that whatever the module
 * built (a getter that throws, a function, a cycle, an array nested a
 * hundred thousand deep) is one problem naming the field, not a stack
 * overflow or a stranger's message later.
 */

/** Deeper than any scenario field (server.threads[0] is 3 levels). */
export const MAX_DEPTH = 32;

/** A value that is not plain data, at `field` ("" for the whole export). */
export class NotPlainData extends Error {
  override readonly name = "NotPlainData";
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(problem);
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** A deep copy of `value` holding only JSON data; throws NotPlainData naming the first field that is not. */
export function plainCopy(value: unknown, path = "", depth = 0): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new NotPlainData(path, `must be a finite number, got ${String(value)}`);
    return value;
  }
  if (typeof value !== "object") throw new NotPlainData(path, `must be plain data (JSON), got a ${typeof value}`);
  if (depth >= MAX_DEPTH) throw new NotPlainData(path, `is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(plainCopy(read(value, String(i), `${path}[${i}]`), `${path}[${i}]`, depth + 1));
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new NotPlainData(path, `must be a plain object, got ${describe(value)}`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = read(value, key, join(path, key));
    if (v !== undefined) out[key] = plainCopy(v, join(path, key), depth + 1);
  }
  return out;
}

/** value[key], where reading may run the module's code (a getter). */
function read(value: object, key: string, field: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch (err) {
    throw new NotPlainData(field, `could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function describe(value: object): string {
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object with a prototype";
}
