/**
 * Finding and reading scenarios: a built-in by name (scenarios/builtin/<name>.ts,
 * compiled next to this file), or the user's file by path (.json, or a .js/.mjs
 * module whose default export is the scenario). Every problem, whatever
 * raised it, is one UsageError line naming the file (and the field when
 * one is to blame). A user's module is imported in a worker thread given
 * IMPORT_LIMIT_MS to load: its code cannot hang or outlive iobench.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { UsageError, oneLine } from "../contracts/errors.js";
import { MODELS } from "../servers/models.js";
import { validateScenario } from "./format.js";
import type { Scenario } from "./format.js";
import type { ImportReply } from "./import-worker.js";
import { NotPlainData, plainCopy } from "./plain.js";

/** The longest a scenario module may take to load (its top-level await included), ms. */
export const IMPORT_LIMIT_MS = 5_000;

const IMPORT_WORKER = new URL("./import-worker.js", import.meta.url);
/** Exit code of a Node.js thread or process whose top-level await was left with nothing to wait for. */
const UNSETTLED_AWAIT = 13;

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

const NO_DEFAULT = "the module has no default export (export default { name, sessions, messageSize, ... })";

/** A built-in's default export (our own code: imported here), as plain data. */
async function importBuiltin(file: string, shown: string): Promise<unknown> {
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (mod.default === undefined) throw new UsageError(`scenario ${shown}: ${NO_DEFAULT}`);
  return plainOrFail(mod.default, shown);
}

function plainOrFail(value: unknown, shown: string): unknown {
  try {
    return plainCopy(value);
  } catch (err) {
    if (err instanceof NotPlainData) throw notPlain(shown, err.field, err.message);
    throw err;
  }
}

function notPlain(shown: string, field: string, problem: string): UsageError {
  const named = field.length > 60 ? `${field.slice(0, 40)}...` : field;
  return new UsageError(`scenario ${shown}: ${field === "" ? "the default export" : `field "${named}"`} ${problem}`);
}

/** The user's module's default export as plain data, imported in a worker thread within limitMs. */
function importUserModule(file: string, shown: string, limitMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // stdout: true keeps what the module prints off iobench's stdout (which may carry --json); it goes to stderr.
    // --no-warnings: Node 22+ prints a multi-line warning of its own for a top-level await that never
    // settles; our one line below says it, naming the file.
    const worker = new Worker(IMPORT_WORKER, { workerData: { url: pathToFileURL(file).href }, stdout: true, execArgv: ["--no-warnings"] });
    worker.stdout.pipe(process.stderr);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(
      () => settle(() => reject(new UsageError(`scenario ${shown}: the module did not finish loading within ${limitMs / 1000} s (a top-level await that never settles, or a loop that never ends?)`))),
      limitMs,
    );
    worker.once("message", (r: ImportReply) =>
      settle(() => {
        if (r.kind === "ok") resolve(r.value);
        else if (r.kind === "no-default") reject(new UsageError(`scenario ${shown}: ${NO_DEFAULT}`));
        else if (r.kind === "not-plain") reject(notPlain(shown, r.field, r.problem));
        else reject(new UsageError(`scenario ${shown}: cannot load the module: ${oneLine(r.message)}`));
      }),
    );
    worker.once("error", (err) => settle(() => reject(new UsageError(`scenario ${shown}: cannot load the module: ${oneLine(err)}`))));
    worker.once("exit", (code) =>
      settle(() =>
        reject(
          new UsageError(
            // Node ends a thread whose top-level await can no longer settle (nothing left to wait for) with code 13.
            `scenario ${shown}: ${code === UNSETTLED_AWAIT ? "the module's top-level await never settles" : `loading the module ended its thread (exit code ${code})`}`,
          ),
        ),
      ),
    );
  });
}

/** Any error of loading or validating, as one UsageError line naming the file. */
async function namingFile<T>(shown: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`scenario ${shown}: ${oneLine(err)}`);
  }
}

/** Loads one built-in by name; throws UsageError listing the names when unknown. */
export async function loadBuiltin(name: string): Promise<LoadedScenario> {
  const names = builtinNames();
  if (!names.includes(name)) throw new UsageError(`unknown scenario '${name}' (built-in: ${names.join(", ")}; or a path to a .json or .js file)`);
  const file = builtinSource(name);
  return namingFile(file, async () => {
    const scenario = validateScenario(await importBuiltin(path.join(BUILTIN_DIR, `${name}.js`), file), file, modelNames());
    if (scenario.name !== name) throw new UsageError(`scenario ${file}: field "name" must be the file's name '${name}', got '${scenario.name}'`);
    return { scenario, file };
  });
}

/** Loads the user's scenario file (.json, .js or .mjs); a module gets importLimitMs to load. */
export function loadScenarioFile(file: string, importLimitMs = IMPORT_LIMIT_MS): Promise<LoadedScenario> {
  return namingFile(file, () => readScenarioFile(file, importLimitMs));
}

async function readScenarioFile(file: string, importLimitMs: number): Promise<LoadedScenario> {
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
    raw = await importUserModule(path.resolve(file), file, importLimitMs);
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
