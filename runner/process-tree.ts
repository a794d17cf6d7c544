/**
 * A process tree read from /proc as one server: a command model's figures
 * are those of every process its command started, so a shell wrapper (or a
 * supervisor, or worker processes) cannot hide the real server.
 *
 * The tree is found afresh at each reading, from the root down through
 * /proc/<pid>/task/<tid>/children (every thread's children: a child belongs
 * to the thread that forked it), so processes started during the run are
 * in it. Its CPU time is each live process's own time plus the time of the
 * children it has already waited for (cutime + cstime): a process that ends
 * inside the window still counts, in its parent's column (derive.ts takes
 * the ticks when they exceed the live threads' schedstat sum). Context
 * switches and scheduler times are per live thread (a thread that ended
 * takes its counts with it, as for a single process); memory is the sum of
 * the processes' resident sets.
 */
import fs from "node:fs";
import type { ProcSnapshot, TaskSample } from "../contracts/proc.js";
import { parseStatChildTicks, readProcess, readRssBytes } from "./proc.js";

function readIfThere(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined; // the process or thread ended meanwhile
  }
}

function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tids) {
    const text = readIfThere(`/proc/${pid}/task/${tid}/children`);
    if (text === undefined) continue;
    for (const word of text.split(" ")) if (word.trim() !== "") children.push(Number(word));
  }
  return children;
}

/** The root and every process below it now, root first. Empty when the root is gone. */
export function treePids(root: number): number[] {
  if (!fs.existsSync(`/proc/${root}`)) return [];
  const pids: number[] = [];
  const seen = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    pids.push(pid);
    queue.push(...childrenOf(pid));
  }
  return pids;
}

/** One reading of the whole tree under `root`, summed as if it were one process. Throws if the root is gone. */
export function readTree(root: number): ProcSnapshot {
  const rootStat = readIfThere(`/proc/${root}/stat`);
  if (rootStat === undefined) throw new Error(`process ${root} is gone`);
  const tasks = new Map<number, TaskSample>();
  let cpuTicks = 0;
  let rssBytes = 0;
  let hwmBytes = 0;
  let threads = 0;
  for (const pid of treePids(root)) {
    let one: ProcSnapshot;
    let stat: string | undefined;
    try {
      one = readProcess(pid);
      stat = readIfThere(`/proc/${pid}/stat`);
    } catch {
      continue; // ended between the walk and the reading
    }
    cpuTicks += one.cpuTicks + (stat === undefined ? 0 : parseStatChildTicks(stat));
    for (const [tid, s] of one.tasks) tasks.set(tid, s);
    rssBytes += one.rssBytes;
    hwmBytes += one.hwmBytes;
    threads += one.threads;
  }
  return { cpuTicks, tasks, rssBytes, hwmBytes, threads };
}

/** Resident memory of the whole tree, bytes, or undefined when the root is gone. */
export function treeRssBytes(root: number): number | undefined {
  const pids = treePids(root);
  if (pids.length === 0) return undefined;
  return pids.reduce((sum, pid) => sum + (readRssBytes(pid) ?? 0), 0);
}
