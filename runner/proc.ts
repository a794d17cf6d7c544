/**
 * /proc readings for the run's figures: a process's CPU time, its threads'
 * context switches, on-CPU and run-queue times (schedstat, nanoseconds) and
 * its memory; the same times for the threads of this (the client's)
 * process; and the busy time of each CPU (/proc/stat), to see what other
 * processes took from the run's CPUs. Threads may exit between listing a
 * task directory and reading it; such a thread is skipped, never an error.
 */
import fs from "node:fs";
import os from "node:os";
import zlib from "node:zlib";
import type { ClientCpuSnapshot, CpuTimes, ProcSnapshot, SystemCpuSnapshot, TaskSample, ThreadTimes } from "../contracts/proc.js";

/**
 * Clock ticks per second of the CPU fields in /proc/<pid>/stat. Linux
 * reports them in USER_HZ, which is 100 on every architecture Node.js runs
 * on (`getconf CLK_TCK` says 100), whatever the kernel's internal HZ.
 */
export const CLOCK_TICKS_PER_SEC = 100;

/** The fields of a /proc stat line after "(comm)": field n of proc(5) is index n - 3. */
function statFields(text: string): string[] {
  // comm may hold spaces and parentheses: the fields start after the last ")".
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error("unexpected /proc stat format");
  return text.slice(close + 2).trim().split(/\s+/);
}

/** utime + stime (clock ticks) from the text of a /proc stat file. */
export function parseStatCpuTicks(text: string): number {
  const f = statFields(text);
  const utime = Number(f[14 - 3]);
  const stime = Number(f[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("unexpected /proc stat format");
  return utime + stime;
}

/** cutime + cstime (clock ticks) from the text of a /proc stat file: the CPU of the children it has waited for. */
export function parseStatChildTicks(text: string): number {
  const f = statFields(text);
  return Number(f[16 - 3]) + Number(f[17 - 3]);
}

/** num_threads from the text of /proc/<pid>/stat. */
export function parseStatThreads(text: string): number {
  return Number(statFields(text)[20 - 3]);
}

/** The numeric value of a "Key:\t123 kB" line of a /proc status file (kB converted to bytes), or 0 if absent. */
export function statusValue(text: string, key: string): number {
  const match = new RegExp(`^${key}:\\s*(\\d+)(\\s*kB)?`, "m").exec(text);
  if (match === null) return 0;
  const n = Number(match[1]);
  return match[2] !== undefined ? n * 1024 : n;
}

/** Reads a /proc file, or undefined when it vanished (the thread or process ended). */
function readIfThere(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return undefined;
    throw err;
  }
}

function taskIds(pid: number | "self"): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** True when a process with this pid exists (and is not a zombie). */
export function processExists(pid: number): boolean {
  const stat = readIfThere(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  return statFields(stat)[0] !== "Z";
}

/** True when the process is stopped (SIGSTOP, a tracer's stop): it answers nothing until continued. */
export function processStopped(pid: number): boolean {
  const stat = readIfThere(`/proc/${pid}/stat`);
  const state = stat === undefined ? undefined : statFields(stat)[0];
  return state === "T" || state === "t";
}

/**
 * A schedstat line (proc(5): /proc/<pid>/task/<tid>/schedstat): time on a
 * CPU, time waiting on a run queue (both ns), and timeslices run.
 */
export function parseSchedstat(text: string): ThreadTimes {
  const [run, wait, slices = 0] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(run) || !Number.isFinite(wait)) throw new Error("unexpected /proc schedstat format");
  return { runNs: run!, waitNs: wait!, slices: Number.isFinite(slices) ? slices : 0 };
}

/** A thread's schedstat, or undefined when it vanished (or the kernel keeps no schedstats). */
function readThreadTimes(pid: number | "self", tid: number): ThreadTimes | undefined {
  const text = readIfThere(`/proc/${pid}/task/${tid}/schedstat`);
  return text === undefined ? undefined : parseSchedstat(text);
}

/** Reads a process: CPU time, per-thread context switches and times, memory. Throws if the process is gone. */
export function readProcess(pid: number): ProcSnapshot {
  const stat = readIfThere(`/proc/${pid}/stat`);
  const status = readIfThere(`/proc/${pid}/status`);
  if (stat === undefined || status === undefined) throw new Error(`process ${pid} is gone`);
  // /proc/<pid>/status counts the main thread's switches only: sum every task's.
  const tasks = new Map<number, TaskSample>();
  for (const tid of taskIds(pid)) {
    const text = readIfThere(`/proc/${pid}/task/${tid}/status`);
    const times = readThreadTimes(pid, tid);
    if (text === undefined || times === undefined) continue;
    tasks.set(tid, {
      voluntary: statusValue(text, "voluntary_ctxt_switches"),
      involuntary: statusValue(text, "nonvoluntary_ctxt_switches"),
      ...times,
      name: tid === pid ? "main" : (/^Name:\s*(.*)$/m.exec(text)?.[1] ?? "?"),
    });
  }
  return {
    cpuTicks: parseStatCpuTicks(stat),
    tasks,
    rssBytes: statusValue(status, "VmRSS"),
    hwmBytes: statusValue(status, "VmHWM"),
    threads: parseStatThreads(stat),
  };
}

/** VmRSS of a process, bytes, or undefined when it is gone. */
export function readRssBytes(pid: number): number | undefined {
  const status = readIfThere(`/proc/${pid}/status`);
  return status === undefined ? undefined : statusValue(status, "VmRSS");
}

/** The soft open-file limit from the text of /proc/<pid>/limits, or undefined ("unlimited", or no such line). */
export function parseOpenFileLimit(text: string): number | undefined {
  const match = /^Max open files\s+(\d+)/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Files a process holds open and its soft limit, or undefined when it is gone or cannot be read (another user's process). */
export function readOpenFiles(pid: number): { count: number; limit: number } | undefined {
  const limits = readIfThere(`/proc/${pid}/limits`);
  const limit = limits === undefined ? undefined : parseOpenFileLimit(limits);
  if (limit === undefined) return undefined;
  try {
    return { count: fs.readdirSync(`/proc/${pid}/fd`).length, limit };
  } catch {
    return undefined;
  }
}

/** CPU time of this process (µs, all threads) and on-CPU and run-queue time of each of its threads (ns). */
export function readClientCpu(): ClientCpuSnapshot {
  const usage = process.cpuUsage();
  const threads = new Map<number, ThreadTimes>();
  for (const tid of taskIds("self")) {
    const times = readThreadTimes("self", tid);
    if (times !== undefined) threads.set(tid, times);
  }
  return { processCpuUs: usage.user + usage.system, threads };
}

/**
 * The per-CPU lines of /proc/stat (clock ticks): idle and interrupt time.
 * Busy time is the window's wall time less idle (derive.otherCpuShare), not
 * the sum of the busy fields: those are sampled by the scheduler tick,
 * which a tickless kernel stops while a CPU idles, so a server that runs
 * in bursts between idle spells of under a tick gets few of its ticks (a
 * run's own CPU then exceeded its busy ticks by a third of a CPU here and
 * hid a busy loop), while idle is measured from the CPU's sleep.
 */
export function parseProcStat(text: string): Map<number, CpuTimes> {
  const cpus = new Map<number, CpuTimes>();
  for (const line of text.split("\n")) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    const [, , , idle = 0, iowait = 0, irq = 0, softirq = 0] = f;
    cpus.set(Number(m[1]), { idleTicks: idle + iowait, irqTicks: irq + softirq });
  }
  return cpus;
}

/**
 * Whether interrupt time is part of the interrupted task's runtime, from the
 * kernel's build config (CONFIG_IRQ_TIME_ACCOUNTING off: true). On loopback
 * most of a run's TCP work is softirq done in the client's and the server's
 * own context: without irq time accounting it is in their runtime (and so
 * already set against the CPUs' busy time); with it, it is no task's, and
 * the irq and softirq fields are the run's own packets to leave out of
 * busy. Unknown (no config to read) counts as accounted apart: a hog may
 * then read low, a quiet run never high.
 */
export function irqTimeInTasks(config: string | undefined): boolean {
  return config !== undefined && /^# CONFIG_IRQ_TIME_ACCOUNTING is not set$/m.test(config);
}

let kernelIrqInTasks: boolean | null = null;

/** The running kernel's build config: /proc/config.gz, else /boot/config-<release>. */
function kernelConfig(): string | undefined {
  try {
    return zlib.gunzipSync(fs.readFileSync("/proc/config.gz")).toString("utf8");
  } catch {
    try {
      return fs.readFileSync(`/boot/config-${os.release()}`, "utf8");
    } catch {
      return undefined;
    }
  }
}

/** Idle and interrupt time of every CPU, and the kernel's softirq threads' on-CPU time (ns) by CPU. */
export function readSystemCpu(): SystemCpuSnapshot {
  kernelIrqInTasks ??= irqTimeInTasks(kernelConfig());
  const atMs = performance.now();
  const stat = readIfThere("/proc/stat");
  return { atMs, cpus: stat === undefined ? new Map() : parseProcStat(stat), softirqThreadNs: softirqThreadTimes(), irqInTasks: kernelIrqInTasks };
}

let softirqPids: Map<number, number> | null = null;

/**
 * ksoftirqd/N: the kernel thread that finishes network softirq work on CPU N
 * when it piles up, charging it as its own system time. On loopback that is
 * the run's own traffic, not another process's load.
 */
function softirqThreadTimes(): Map<number, number> {
  if (softirqPids === null) {
    softirqPids = new Map();
    for (const name of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const comm = readIfThere(`/proc/${name}/comm`);
      const m = comm === undefined ? null : /^ksoftirqd\/(\d+)$/.exec(comm.trim());
      if (m !== null) softirqPids.set(Number(m[1]), Number(name));
    }
  }
  const times = new Map<number, number>();
  for (const [cpu, pid] of softirqPids) {
    const text = readIfThere(`/proc/${pid}/schedstat`);
    if (text !== undefined) times.set(cpu, parseSchedstat(text).runNs);
  }
  return times;
}

/** The CPUs this process may run on (its affinity mask, from Cpus_allowed_list), ascending. */
export function allowedCpus(): number[] {
  const status = readIfThere("/proc/self/status") ?? "";
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  if (m === null) return [];
  const cpus: number[] = [];
  for (const part of m[1]!.split(",")) {
    const [lo, hi] = part.split("-").map(Number);
    for (let c = lo!; c <= (hi ?? lo!); c++) cpus.push(c);
  }
  return cpus;
}
