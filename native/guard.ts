/**
 * Starting a child process that dies with iobench. Every program iobench
 * starts (a server, clinic, wrk, a C yardstick, git, npm) is run through
 * build/Release/iobench-guard (native/guard.c), which asks the kernel to
 * SIGKILL it when iobench dies, then execs the program: so even a kill -9
 * of iobench, which runs no clean-up, leaves nothing running.
 *
 * The kernel sends that signal when the *thread* that forked the child
 * exits. Node forks from the thread that calls spawn, so children are
 * started from the main thread only (a worker thread's exit would kill
 * them); guarded() refuses anywhere else.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";

/** dist/native/guard.js -> build/Release/iobench-guard (built by node-gyp beside the addon). */
export const GUARD = fileURLToPath(new URL("../../build/Release/iobench-guard", import.meta.url));

/** The file and arguments that run `command args` under the guard, tied to this process. */
export function guarded(command: string, args: readonly string[]): [string, string[]] {
  if (!isMainThread) throw new Error(`${command} must be started from the main thread: a child dies with the thread that forked it`);
  if (!existsSync(GUARD)) throw new Error(`${GUARD} is missing: run npm install (or npm run build) to build it`);
  return [GUARD, [String(process.pid), command, ...args]];
}

/** child_process.spawn, under the guard. The child's pid is the command's (the guard execs it). */
export function spawnGuarded(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const [file, all] = guarded(command, args);
  return spawn(file, all, options);
}
