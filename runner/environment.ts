/**
 * The machine and software a sweep ran on, recorded in results.json so a
 * figure is never read without knowing where it came from.
 */
import { execFileSync } from "node:child_process";
import { guarded } from "../native/guard.js";
import { readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { Environment } from "../reports/schema.js";
import { CLOCK_TICKS_PER_SEC } from "./proc.js";

/** The iobench checkout (package root): dist/runner/ -> ../../ */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** iobench's version from package.json ("0.0.0" if unreadable). */
export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync(...guarded("git", args), {
      cwd: PACKAGE_ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    }).trim();
  } catch {
    return null;
  }
}

/** CPUs this process may run on (its affinity mask). */
export function usableCores(): number {
  return os.availableParallelism();
}

/** Collects the environment. `nofile` is the open-file limit the runs will have. */
export function collectEnvironment(nofile: { soft: number; hard: number } | null): Environment {
  const cpus = os.cpus();
  const gitCommit = git(["rev-parse", "--verify", "--quiet", "HEAD"]);
  const status = gitCommit === null ? null : git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    usableCores: usableCores(),
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gitCommit: gitCommit === "" ? null : gitCommit,
    gitDirty: status === null ? null : status !== "",
    nofileLimit: nofile,
    clockTicksPerSec: CLOCK_TICKS_PER_SEC,
  };
}
