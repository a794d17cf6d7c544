/**
 * Checking data against the schemas of reports/schema.ts, and saying what is
 * wrong in one line a user can act on: which field, what it may be, what it
 * was ('field "sessions" must be a whole number from 1 to 1000000, got
 * "many"'). TypeBox decides whether a value conforms; when it does not, the
 * schema is walked in field order to find the first problem and word it. A
 * union is entered through the member the value is meant to be (its tag,
 * such as a run's "status", or the only member of the value's shape), so
 * the message names the deepest field that is wrong, not "one of these".
 */
import { Kind, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";

/** A field that breaks the schema: its path ("" for the whole value, "server.models[0]") and what is wrong. */
export interface Problem {
  field: string;
  /** "must be ..., got ..." or "is not a <noun> field (allowed: ...)". */
  text: string;
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = compiled.get(schema);
  if (c === undefined) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

/** Whether `value` conforms to `schema`. */
export function conforms(schema: TSchema, value: unknown): boolean {
  return checker(schema).Check(value);
}

/**
 * The first problem of `value` against `schema`, or null when it conforms.
 * `noun` words unknown fields ("scenario": 'is not a scenario field').
 */
export function firstProblem(schema: TSchema, value: unknown, noun: string): Problem | null {
  const c = checker(schema);
  if (c.Check(value)) return null;
  const found = walk(schema, value, "", noun);
  if (found !== null) return found;
  // A keyword the walk does not read: TypeBox's own words.
  const e = c.Errors(value).First();
  return { field: e === undefined ? "" : e.path.slice(1).replace(/\//g, "."), text: e?.message ?? "does not match the schema" };
}

/** A value shown in a message: JSON, cut at 60 characters (and never a stack overflow on deep nesting). */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    return "a value too deeply nested to show";
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function fail(field: string, text: string): Problem {
  return { field, text };
}

function walk(schema: TSchema, value: unknown, path: string, noun: string): Problem | null {
  if (conforms(schema, value)) return null;
  if (schema.anyOf !== undefined) return union(schema, value, path, noun);
  if (schema.const !== undefined) return fail(path, `must be ${JSON.stringify(schema.const)}, got ${show(value)}`);
  switch (schema.type) {
    case "object":
      return object(schema, value, path, noun);
    case "array":
      return array(schema, value, path, noun);
    case "integer":
    case "number":
      return number(schema, value, path);
    default:
      return fail(path, `must be ${phrase(schema)}, got ${show(value)}`);
  }
}

function object(schema: TSchema, value: unknown, path: string, noun: string): Problem | null {
  if (!isObject(value)) return fail(path, `must be an object, got ${show(value)}`);
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const names = Object.keys(properties);
  if (schema.additionalProperties === false) {
    const unknown = Object.keys(value).find((k) => !(k in properties));
    if (unknown !== undefined) return fail(join(path, unknown), `is not a${/^[aeiou]/.test(noun) ? "n" : ""} ${noun} field (allowed: ${names.filter((n) => n !== "$schema").join(", ")})`);
  }
  const required = new Set<string>((schema.required as string[] | undefined) ?? []);
  for (const name of names) {
    const v = value[name];
    if (v === undefined) {
      if (required.has(name)) return fail(join(path, name), `must be ${phrase(properties[name]!)}, got nothing`);
      continue;
    }
    const p = walk(properties[name]!, v, join(path, name), noun);
    if (p !== null) return p;
  }
  return null;
}

function array(schema: TSchema, value: unknown, path: string, noun: string): Problem | null {
  if (!Array.isArray(value)) return fail(path, `must be ${phrase(schema)}, got ${show(value)}`);
  const min = schema.minItems as number | undefined;
  if (min !== undefined && value.length < min) return fail(path, min === 1 ? "must not be an empty list" : `must have at least ${min} items`);
  const items = schema.items as TSchema | undefined;
  if (items === undefined) return null;
  for (let i = 0; i < value.length; i++) {
    const p = walk(items, value[i], `${path}[${i}]`, noun);
    if (p !== null) return p;
  }
  return null;
}

function number(schema: TSchema, value: unknown, path: string): Problem | null {
  const integer = schema.type === "integer";
  if (typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) return fail(path, `must be ${phrase(schema)}, got ${show(value)}`);
  return fail(path, `must be ${range(schema)}, got ${value}`);
}

/** The member of a union the value is meant to be: tagged by a literal field, or the only member of its shape. */
function union(schema: TSchema, value: unknown, path: string, noun: string): Problem | null {
  const members = schema.anyOf as TSchema[];
  if (members.every((m) => m.const !== undefined)) {
    return fail(path, `must be one of ${members.map((m) => JSON.stringify(m.const)).join(", ")}; got ${show(value)}`);
  }
  let meant: TSchema[] = [];
  if (isObject(value)) {
    const objects = members.filter((m) => m.type === "object");
    const tag = tagOf(objects);
    if (tag !== undefined && !objects.some((m) => value[tag] === (m.properties as Record<string, TSchema>)[tag]!.const)) {
      return fail(join(path, tag), `must be one of ${objects.map((m) => JSON.stringify((m.properties as Record<string, TSchema>)[tag]!.const)).join(", ")}; got ${show(value[tag])}`);
    }
    const tagged = objects.filter((m) => Object.entries((m.properties ?? {}) as Record<string, TSchema>).some(([k, p]) => p.const !== undefined && value[k] === p.const));
    meant = tagged.length > 0 ? tagged : objects.length === 1 ? objects : objects.filter((m) => ((m.required as string[] | undefined) ?? []).every((k) => k in value) && (m.required as string[]).length > 0);
  } else if (Array.isArray(value)) {
    meant = members.filter((m) => m.type === "array");
  } else if (schema.title === undefined) {
    // A scalar: the member of its type says best what is wrong (a range), unless the union words itself.
    const type = typeof value === "number" ? ["number", "integer"] : [typeof value];
    meant = members.filter((m) => type.includes(m.type as string) && m.const === undefined);
  }
  if (meant.length === 1) return walk(meant[0]!, value, path, noun);
  return fail(path, `must be ${phrase(schema)}, got ${show(value)}`);
}

/** The field every object member of a union fixes to a constant of its own (a run's "status"), if there is one. */
function tagOf(objects: TSchema[]): string | undefined {
  if (objects.length < 2) return undefined;
  const first = (objects[0]!.properties ?? {}) as Record<string, TSchema>;
  return Object.keys(first).find((k) => objects.every((m) => ((m.properties ?? {}) as Record<string, TSchema>)[k]?.const !== undefined));
}

/** "from 1 to 10", "at least 0", "above 0", "at most 5". */
function range(schema: TSchema): string {
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  const above = schema.exclusiveMinimum as number | undefined;
  if (min !== undefined && max !== undefined) return `from ${min} to ${max}`;
  if (above !== undefined) return `above ${above}${max !== undefined ? ` and at most ${max}` : ""}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return "";
}

/** What a schema accepts, in words ("a whole number from 1 to 1000000"). */
export function phrase(schema: TSchema): string {
  if (typeof schema.title === "string") return schema.title;
  if (schema.anyOf !== undefined) {
    const members = schema.anyOf as TSchema[];
    if (members.every((m) => m.const !== undefined)) return `one of ${members.map((m) => JSON.stringify(m.const)).join(", ")}`;
    const words = members.map(phrase);
    return words.length <= 2 ? words.join(" or ") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)!}`;
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  switch (schema.type) {
    case "integer":
    case "number": {
      const r = range(schema);
      return `${schema.type === "integer" ? "a whole number" : "a number"}${r === "" ? "" : ` ${r}`}`;
    }
    case "string":
      return schema.pattern !== undefined ? `a string matching ${String(schema.pattern)}` : "a string";
    case "boolean":
      return "true or false";
    case "null":
      return "null";
    case "array":
      return schema.items !== undefined ? `a list (each ${phrase(schema.items as TSchema)})` : "a list";
    case "object":
      return "an object";
    default:
      return String(schema[Kind] ?? "a value").toLowerCase();
  }
}
