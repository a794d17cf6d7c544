/**
 * `check --against REF`: the code at REF, checked out in a temporary git
 * worktree and built, so it can be run side by side with the working tree.
 *
 * node_modules: when REF's package-lock.json is byte-for-byte this
 * checkout's, the worktree links to this checkout's node_modules (the same
 * packages; the build writes only build/ and dist/ inside the worktree, so
 * nothing is shared that either side writes), and only REF's own install
 * and prepare scripts run (the addon and the TypeScript). Otherwise it gets
 * its own `npm ci --prefer-offline`, from the npm cache when it can.
 *
 * The worktree is removed when the check ends, and on process exit if the
 * check is cut short (a second Ctrl-C).
 */
import { execFile, execFileSync } from "node:child_process";
import { guarded } from "../native/guard.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError, RunFailure } from "../contracts/errors.js";
import { PACKAGE_ROOT } from "./environment.js";

/** A built checkout of REF. */
export interface BuiltRef {
  /** The worktree directory. */
  dir: string;
  /** The commit REF resolved to. */
  commit: string;
  /** Its CLI entry point. */
  cli: string;
  /** How node_modules was provided. */
  modules: "linked" | "npm ci";
  /** Removes the worktree (idempotent). */
  remove(): void;
}

/** Building may take this long (npm ci from the network in the worst case), ms. */
const BUILD_TIMEOUT_MS = 10 * 60_000;

function run(cmd: string, args: string[], cwd: string, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const [file, guardedArgs] = guarded(cmd, args);
    execFile(file, guardedArgs, { cwd, encoding: "utf8", timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 << 20, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      const tail = `${stdout}\n${stderr}`.trim().split("\n").filter((l) => l.trim() !== "").slice(-3).join(" / ");
      reject(new RunFailure(`${cmd} ${args.join(" ")} failed in ${cwd}: ${tail || err.message}`));
    });
  });
}

function gitSync(args: string[]): string {
  return execFileSync(...guarded("git", args), { cwd: PACKAGE_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 }).trim();
}

/** Checks REF out in a temporary worktree and builds it. `log` gets one line per step. */
export async function buildRef(ref: string, log: (line: string) => void, signal?: AbortSignal): Promise<BuiltRef> {
  let commit: string;
  try {
    commit = gitSync(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  } catch {
    throw new UsageError(`--against ${ref}: not a commit in ${PACKAGE_ROOT} (git rev-parse failed)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-against-"));
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    process.off("exit", remove);
    try {
      gitSync(["worktree", "remove", "--force", dir]);
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
      try {
        gitSync(["worktree", "prune"]);
      } catch {
        // nothing more to do: the directory is gone
      }
    }
  };
  process.on("exit", remove);
  try {
    log(`iobench check: checking out ${ref} (${commit.slice(0, 12)}) in ${dir}`);
    await run("git", ["worktree", "add", "--detach", dir, commit], PACKAGE_ROOT, signal);
    const lock = (root: string): string | null => {
      try {
        return fs.readFileSync(path.join(root, "package-lock.json"), "utf8");
      } catch {
        return null;
      }
    };
    const ownModules = path.join(PACKAGE_ROOT, "node_modules");
    const sameLock = lock(dir) !== null && lock(dir) === lock(PACKAGE_ROOT) && fs.existsSync(ownModules);
    if (sameLock) {
      log("iobench check: same package-lock.json: linking node_modules, building the addon and the TypeScript");
      fs.symlinkSync(ownModules, path.join(dir, "node_modules"), "dir");
      await run("npm", ["run", "--silent", "install"], dir, signal);
      await run("npm", ["run", "--silent", "prepare"], dir, signal);
    } else {
      log("iobench check: package-lock.json differs: npm ci --prefer-offline (this builds it too)");
      await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], dir, signal);
    }
    const cli = path.join(dir, "dist/cli/main.js");
    if (!fs.existsSync(cli)) throw new RunFailure(`${ref} built, but has no dist/cli/main.js: is it an iobench commit?`);
    return { dir, commit, cli, modules: sameLock ? "linked" : "npm ci", remove };
  } catch (err) {
    remove();
    throw err;
  }
}
