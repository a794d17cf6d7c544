/**
 * Where results.json lives and how it is written. The file is rewritten
 * whole after every run, atomically (temp file in the same directory,
 * fsync, rename), so a reader, or a sweep killed at any moment, only ever
 * sees a complete file holding every run measured so far.
 */
import fs from "node:fs";
import path from "node:path";
import { RESULTS_SCHEMA, RESULTS_VERSION } from "./schema.js";
import type { ResultsFile } from "./schema.js";

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

/** results.json as text (2-space indent, trailing newline). */
export function serialiseResults(results: ResultsFile): string {
  return JSON.stringify(results, null, 2) + "\n";
}

/** Rewrites <dir>/results.json with the whole sweep so far, stamping updatedAt. */
export function writeResults(dir: string, results: ResultsFile): string {
  results.updatedAt = new Date().toISOString();
  const file = resultsPath(dir);
  writeFileAtomic(file, serialiseResults(results));
  return file;
}

/**
 * Reads a results.json (given the file or its directory) and checks its
 * schema tag and version; throws one-line errors naming the problem.
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
  const d = data as Partial<ResultsFile> | null;
  if (d === null || typeof d !== "object" || d.schema !== RESULTS_SCHEMA) throw new Error(`${file} is not an iobench results file (no "schema": "${RESULTS_SCHEMA}")`);
  if (d.version !== RESULTS_VERSION) throw new Error(`${file} has results version ${String(d.version)}; this iobench reads version ${RESULTS_VERSION}`);
  if (!Array.isArray(d.runs) || typeof d.environment !== "object" || typeof d.options !== "object") throw new Error(`${file} lacks runs, environment or options`);
  return d as ResultsFile;
}
