/**
 * Where results.json lives and how it is written. The file is rewritten
 * whole after every run, atomically (temp file in the same directory,
 * fsync, rename), so a reader, or a sweep killed at any moment, only ever
 * sees a complete file holding every run measured so far.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RESULTS_SCHEMA, RESULTS_VERSION, ResultsFileSchema, SEED_LOAD } from "./schema.js";
import type { BenchOptions, ResultsFile } from "./schema.js";
import { firstProblem } from "./validate.js";

/** A UTC timestamp usable as a directory name on every OS: 2026-11-23T09-41-07Z. */
export function timestampName(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/:/g, "-");
}

/**
 * Creates <root>/<timestamp>/ (root included) and returns its path. Two
 * sweeps started in the same second get "<timestamp>-2", "-3", ...
 */
export function createResultsDir(root: string, date: Date = new Date()): string {
  makeDirs(root);
  const base = path.join(root, timestampName(date));
  for (let n = 1; ; n++) {
    const dir = n === 1 ? base : `${base}-${n}`;
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n >= 1000) throw err;
    }
  }
}

/**
 * mkdir -p, one component at a time: Node 20's mkdirSync({recursive: true})
 * spins forever under /proc (mkdir keeps failing with ENOENT there).
 */
function makeDirs(dir: string): void {
  const full = path.resolve(dir);
  const parts = full.split(path.sep).filter((p) => p !== "");
  let at = path.parse(full).root;
  for (const part of parts) {
    at = path.join(at, part);
    try {
      fs.mkdirSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  if (!fs.statSync(full).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR" });
}

/** Path of the results file in a results directory. */
export function resultsPath(dir: string): string {
  return path.join(dir, "results.json");
}

/**
 * Writes `content` to `file` atomically: a reader sees the old file or the
 * new one, never a mix, and after a crash the new one is on disk whole.
 */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, "w", 0o644);
  try {
    if (typeof content === "string") fs.writeSync(fd, content);
    else fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  // The rename itself is durable only once the directory is synced.
  let dirFd: number | undefined;
  try {
    dirFd = fs.openSync(dir, "r");
    fs.fsyncSync(dirFd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    if (dirFd !== undefined) fs.closeSync(dirFd);
  }
}

/** dist/reports/results-file.js -> schemas/ at the package root. */
const SCHEMA_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));

/** Where the published JSON Schema of a file kind is (schemas/<kind>.schema.json of this iobench). */
export function schemaFile(kind: "results" | "baseline" | "scenario"): string {
  return path.join(SCHEMA_DIR, `${kind}.schema.json`);
}

/** The `$schema` a file written into `dir` carries: the path from there to its JSON Schema, for editors. */
export function schemaReference(kind: "results" | "baseline", dir: string): string {
  return path.relative(path.resolve(dir), schemaFile(kind)).split(path.sep).join("/");
}

/** results.json as text (2-space indent, trailing newline). */
export function serialiseResults(results: ResultsFile): string {
  return JSON.stringify(results, null, 2) + "\n";
}

/** Rewrites <dir>/results.json with the whole sweep so far, stamping updatedAt (and its $schema). */
export function writeResults(dir: string, results: ResultsFile): string {
  results.updatedAt = new Date().toISOString();
  const file = resultsPath(dir);
  const { $schema: _old, ...rest } = results;
  writeFileAtomic(file, serialiseResults({ $schema: schemaReference("results", dir), ...rest }));
  return file;
}

/**
 * Fills in the options fields added to version 1 after its first files
 * were written, with what their absence meant (any engine, the seed's
 * load, no scenario), so such a file still reads.
 */
export function upgradeOptions(options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) return;
  const o = options as Partial<BenchOptions>;
  if (!("clientEngine" in o)) o.clientEngine = null;
  if (!("load" in o)) o.load = { ...SEED_LOAD, protocol: o.protocol ?? "echo" };
  if (!("scenario" in o)) o.scenario = null;
}

/**
 * Checks parsed JSON as a results file: its tag, its version, then the
 * whole schema. Throws one line naming `file`, and for a run that breaks
 * it which run and which field.
 */
export function checkResults(data: unknown, file: string): ResultsFile {
  const d = data as Partial<ResultsFile> | null;
  if (d === null || typeof d !== "object" || d.schema !== RESULTS_SCHEMA) throw new Error(`${file} is not an iobench results file (no "schema": "${RESULTS_SCHEMA}")`);
  if (d.version !== RESULTS_VERSION) throw new Error(`${file} has results version ${String(d.version)}; this iobench reads version ${RESULTS_VERSION}`);
  upgradeOptions(d.options);
  const p = firstProblem(ResultsFileSchema, data, "results");
  if (p === null) return data as ResultsFile;
  const run = /^runs\[(\d+)\]\.?(.*)$/.exec(p.field);
  if (run === null) throw new Error(`${file}: field "${p.field}" ${p.text}`);
  const i = Number(run[1]);
  const runs = d.runs as unknown[];
  const status = (runs[i] as { status?: unknown } | null)?.status;
  const where = `run ${i + 1} of ${runs.length}${typeof status === "string" ? ` (${JSON.stringify(status).slice(0, 20)})` : ""}`;
  throw new Error(`${file}: ${where}: ${run[2] === "" ? "the run" : `field "${run[2]}"`} ${p.text}`);
}

/**
 * Reads a results.json (given the file or its directory) and checks it
 * against the schema; throws one-line errors naming the problem.
 */
export function readResults(dirOrFile: string): ResultsFile {
  let file = dirOrFile;
  try {
    if (fs.statSync(dirOrFile).isDirectory()) file = resultsPath(dirOrFile);
  } catch {
    throw new Error(`${dirOrFile}: no such file or directory`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return checkResults(data, file);
}
