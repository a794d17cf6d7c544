/**
 * Readings of /proc taken at the edges of a run's measured window
 * (runner/proc.ts takes them, reports/derive.ts turns them into figures).
 */

/** Context-switch counters of one task (thread). */
export interface TaskSwitches {
  voluntary: number;
  involuntary: number;
}

/** One reading of a process from /proc (runner/proc.ts takes it). */
export interface ProcSnapshot {
  /** utime + stime of the whole process (dead threads included), clock ticks. */
  cpuTicks: number;
  /** Context switches per live task, by kernel thread id. */
  tasks: ReadonlyMap<number, TaskSwitches>;
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
  /** utime + stime per thread of the client process, clock ticks, by kernel thread id. */
  threadTicks: ReadonlyMap<number, number>;
}
