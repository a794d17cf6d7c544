/**
 * The harness's own per-message overhead, measured with tinybench: what the
 * client spends per message on its hot paths (message verification,
 * latency recording) and what the HTTP framing costs on both sides. A
 * benchmark figure is only as good as the harness is cheap next to it.
 *
 *   npm run bench:micro -- [--time 500]      (ms per case)
 *
 * Each task runs a batch of `ops` operations, so the timer's own cost is
 * spread thin; the table shows the median time per operation.
 */
import { Bench } from "tinybench";
import { arg } from "./lib.js";
import { MICRO_CASES } from "./micro-cases.js";

const bench = new Bench({ time: arg("time", 500), warmupTime: 100 });
for (const c of MICRO_CASES) bench.add(c.name, c.batch());
await bench.run();

console.log("case                                          ns/op   ops/s (M)   ±%");
let failed = false;
for (const [i, task] of bench.tasks.entries()) {
  const c = MICRO_CASES[i]!;
  const r = task.result;
  // A tagged union (tinybench): a case that threw is reported, not fatal to the others.
  if (r.state !== "completed") {
    failed = true;
    console.log(`${c.name.padEnd(42)} ${r.state === "errored" ? `ERROR ${String(r.error.message)}` : r.state}`);
    continue;
  }
  const nsPerOp = (r.latency.p50 * 1e6) / c.ops;
  console.log(`${c.name.padEnd(42)} ${nsPerOp.toFixed(1).padStart(8)}  ${(1e3 / nsPerOp).toFixed(2).padStart(10)}  ${r.latency.rme.toFixed(1).padStart(4)}`);
}
if (failed) process.exitCode = 1;
