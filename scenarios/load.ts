/**
 * Finding and reading scenarios: a built-in by name (scenarios/builtin/<name>.ts,
 * compiled next to this file), or the user's file by path (.json, or a .js/.mjs
 * module whose default export is the scenario). Every problem is one
 * UsageError line naming the file.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { UsageError, oneLine } from "../contracts/errors.js";
import { MODELS } from "../servers/models.js";
import { validateScenario } from "./format.js";
import type { Scenario } from "../contracts/scenario.js";

/** A scenario and where it came from. */
export interface LoadedScenario {
  scenario: Scenario;
  /** The file named in messages and in results.json: a built-in's TypeScript source, or the user's path. */
  file: string;
}

const BUILTIN_DIR = fileURLToPath(new URL("./builtin/", import.meta.url));

/** Names every model answers to, for validating server.models. */
function modelNames(): string[] {
  return MODELS.flatMap((m) => [m.name, ...m.aliases]);
}

/** Names of the built-in scenarios, sorted. */
export function builtinNames(): string[] {
  return fs
    .readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith(".js"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The source file a built-in is documented by (relative to the checkout). */
function builtinSource(name: string): string {
  return `scenarios/builtin/${name}.ts`;
}

async function importDefault(file: string, shown: string): Promise<unknown> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new UsageError(`scenario ${shown}: cannot load the module: ${oneLine(err)}`);
  }
  if (mod.default === undefined) throw new UsageError(`scenario ${shown}: the module has no default export (export default { name, sessions, messageSize, ... })`);
  return mod.default;
}

/** Loads one built-in by name; throws UsageError listing the names when unknown. */
export async function loadBuiltin(name: string): Promise<LoadedScenario> {
  const names = builtinNames();
  if (!names.includes(name)) throw new UsageError(`unknown scenario '${name}' (built-in: ${names.join(", ")}; or a path to a .json or .js file)`);
  const file = builtinSource(name);
  const scenario = validateScenario(await importDefault(path.join(BUILTIN_DIR, `${name}.js`), file), file, modelNames());
  if (scenario.name !== name) throw new UsageError(`scenario ${file}: field "name" must be the file's name '${name}', got '${scenario.name}'`);
  return { scenario, file };
}

/** Loads the user's scenario file (.json, .js or .mjs). */
export async function loadScenarioFile(file: string): Promise<LoadedScenario> {
  if (!fs.existsSync(file)) throw new UsageError(`scenario ${file}: no such file`);
  let raw: unknown;
  if (file.endsWith(".json")) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`scenario ${file}: cannot read it: ${oneLine(err)}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`scenario ${file}: not valid JSON: ${oneLine(err)}`);
    }
  } else if (/\.(js|mjs)$/.test(file)) {
    raw = await importDefault(path.resolve(file), file);
  } else if (file.endsWith(".ts")) {
    throw new UsageError(`scenario ${file}: Node.js 20 cannot load TypeScript directly; compile it to .js, or write the scenario as .json`);
  } else {
    throw new UsageError(`scenario ${file}: must be a .json file or a .js/.mjs module`);
  }
  return { scenario: validateScenario(raw, file, modelNames()), file };
}

/** --scenario's value: a path when it looks like one (a slash or a file extension), else a built-in name. */
export function loadScenario(nameOrPath: string): Promise<LoadedScenario> {
  return /[/\\]|\.(json|js|mjs|ts)$/.test(nameOrPath) ? loadScenarioFile(nameOrPath) : loadBuiltin(nameOrPath);
}

/** Every built-in, validated (for --list-scenarios and the tests). */
export async function loadBuiltins(): Promise<LoadedScenario[]> {
  const out: LoadedScenario[] = [];
  for (const name of builtinNames()) out.push(await loadBuiltin(name));
  return out;
}

/** One line per built-in: name, padded, then its description. */
export function listLines(scenarios: readonly LoadedScenario[]): string[] {
  const width = Math.max(...scenarios.map((s) => s.scenario.name.length));
  return scenarios.map((s) => `${s.scenario.name.padEnd(width)}  ${s.scenario.description ?? ""}`.trimEnd());
}
