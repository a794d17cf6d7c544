/**
 * CPU sets for pinning, written as Linux cpuset lists: "0", "0-1", "0,2-3".
 */
import { UsageError } from "../contracts/errors.js";

/** Parses a CPU list; throws UsageError naming the flag on anything else or a CPU >= cpuCount. */
export function parseCpuList(flag: string, text: string, cpuCount: number): number[] {
  const cpus = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (m === null) throw new UsageError(`${flag} must be a CPU list like 0 or 0-1 or 0,2, got '${text}'`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UsageError(`${flag}: range ${part.trim()} goes backwards`);
    if (hi >= cpuCount) throw new UsageError(`${flag}: CPU ${hi} does not exist (this machine has CPUs 0-${cpuCount - 1})`);
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The CPUs two sets share. */
export function overlap(a: readonly number[], b: readonly number[]): number[] {
  return a.filter((c) => b.includes(c));
}
