/**
 * Readings of /proc taken at the edges of a run's measured window
 * (runner/proc.ts takes them, reports/derive.ts turns them into figures).
 */

/** A thread's scheduler times (/proc/<pid>/task/<tid>/schedstat). */
export interface ThreadTimes {
  /** On a CPU, ns. */
  runNs: number;
  /** Runnable, waiting on a run queue for a CPU, ns. */
  waitNs: number;
  /** Times it was put on a CPU (timeslices run). */
  slices: number;
}

/** Context-switch counters and scheduler times of one task (thread). */
export interface TaskSample extends ThreadTimes {
  voluntary: number;
  involuntary: number;
  /** The thread's name (its comm), "main" for the process's first thread (Node names every thread "node"); absent when unread. */
  name?: string;
}

/** One reading of a process from /proc (runner/proc.ts takes it). */
export interface ProcSnapshot {
  /** utime + stime of the whole process (dead threads included), clock ticks. */
  cpuTicks: number;
  /** Context switches and scheduler times per live task, by kernel thread id. */
  tasks: ReadonlyMap<number, TaskSample>;
  /** VmRSS, bytes. */
  rssBytes: number;
  /** VmHWM (peak RSS), bytes. */
  hwmBytes: number;
  /** Threads alive. */
  threads: number;
}

/** Client CPU at one edge of the window. */
export interface ClientCpuSnapshot {
  /** CPU time of the whole client process (process.cpuUsage user + system), µs. */
  processCpuUs: number;
  /** Scheduler times per thread of the client process, by kernel thread id. */
  threads: ReadonlyMap<number, ThreadTimes>;
}

/** One CPU's line of /proc/stat, clock ticks. */
export interface CpuTimes {
  /** idle + iowait: on a tickless kernel measured from the CPU's sleep, not sampled by the tick. */
  idleTicks: number;
  /** irq + softirq: the ticks that landed in interrupt context. */
  irqTicks: number;
}

/** The machine's CPUs at one edge of the window. */
export interface SystemCpuSnapshot {
  /** When it was read (performance.now(), ms): the wall time the CPUs' busy time is measured against. */
  atMs: number;
  cpus: ReadonlyMap<number, CpuTimes>;
  /** On-CPU time of each CPU's ksoftirqd thread, ns, by CPU. */
  softirqThreadNs: ReadonlyMap<number, number>;
  /** Whether the kernel keeps interrupt time inside the interrupted task's runtime (runner/proc.ts irqTimeInTasks). */
  irqInTasks: boolean;
}
