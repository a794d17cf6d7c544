/**
 * A run's raw samples as the runner hands them to reports/derive.ts: what
 * the client measured plus the /proc readings around the measured window.
 */
import type { ClientMeasurement } from "./client.js";
import type { ClientCpuSnapshot, ProcSnapshot, SystemCpuSnapshot } from "./proc.js";

/** Everything a run collected, as handed to deriveFigures. */
export interface RawRun {
  measurement: ClientMeasurement;
  /** Wall time between the two /proc readings, seconds (the CPU figures' denominator). */
  sampledWindowSec: number;
  /** Warm-up as timed by the runner, seconds. */
  warmupSec: number;
  /** Sessions the run asked for. */
  connectionsRequested: number;
  /** Sessions close and reconnect by design (messages per session): fewer connected at the end is no problem. */
  sessionsChurn?: boolean;
  /** Open loop: the target rate over all sessions, messages/s; null in closed loop. */
  targetMessagesPerSec?: number | null;
  /** Server readings; null when the server cannot be read (external server without --server-pid). */
  server: {
    before: ProcSnapshot;
    after: ProcSnapshot;
    rssSamplesBytes: readonly number[];
    /** RSS once it listened, before the client started, bytes (absent: not read). */
    idleRssBytes?: number;
    /** Files it held open at the window's end and its open-file limit (absent: not read). */
    openFiles?: { count: number; limit: number };
    /** Files it held open once it listened, before any session (absent: not read). */
    idleOpenFiles?: number;
  } | null;
  /** RSS of the client process before its sessions started and at the window's end, bytes (absent: not read). */
  clientMemory?: { beforeBytes: number; endBytes: number };
  client: { before: ClientCpuSnapshot; after: ClientCpuSnapshot; usableCores: number };
  /** /proc/stat at both edges and the CPUs the run ran on (pinned sets, else every usable CPU); absent when not read. */
  system?: { before: SystemCpuSnapshot; after: SystemCpuSnapshot; cpus: readonly number[] };
  /** CPU time of the client processes on this machine the load was split over, in their windows, seconds: the run's own, not other processes' (absent: none). */
  localPartsCpuSeconds?: number;
  /** Clock ticks per second of the /proc CPU fields. */
  clockTicksPerSec: number;
  /** false when the server process did not exit cleanly when stopped; undefined when not known. */
  serverExitedCleanly?: boolean;
}
