/**
 * Does iobench's client keep up with plain C? Against the C epoll echo
 * yardstick (pinned to one core), run the C ping-pong client and iobench's
 * client (pinned to the other) in alternating order, R rounds, and report
 * the median of the per-round rate ratios. A ratio >= 1 means the harness's
 * own client is not what limits a measurement.
 *
 *   npm run bench:client -- [--rounds 5] [--seconds 5] [--sessions 256] [--size 64]
 */
import { arg, buildReference, cpuPair, median, runIobenchClient, runReferenceClient, startReferenceServer } from "./lib.js";

const rounds = arg("rounds", 5);
const load = { sessions: arg("sessions", 256), size: arg("size", 64), seconds: arg("seconds", 5) };
const cpus = cpuPair();

buildReference();
const ratios: number[] = [];
const rows: string[] = [];
for (let r = 0; r < rounds; r++) {
  // A fresh server per round, and the order alternates, so neither client
  // always meets a warmer (or more fragmented) server than the other.
  const server = await startReferenceServer(cpus.server);
  try {
    const first = r % 2 === 0 ? "c" : "iobench";
    let c = { messagesPerSec: 0, errors: 0 };
    let io = { messagesPerSec: 0, errors: 0, clientSaturated: false };
    for (const who of first === "c" ? ["c", "iobench"] : ["iobench", "c"]) {
      if (who === "c") c = runReferenceClient(server, { ...load, cpus: cpus.client });
      else io = runIobenchClient(server, { ...load, cpus: cpus.client });
    }
    const ratio = io.messagesPerSec / c.messagesPerSec;
    ratios.push(ratio);
    rows.push(`round ${r + 1}: C ${c.messagesPerSec.toFixed(0)} msg/s, iobench ${io.messagesPerSec.toFixed(0)} msg/s, ratio ${ratio.toFixed(3)}` +
      `${c.errors + io.errors > 0 ? `  ERRORS c=${c.errors} iobench=${io.errors}` : ""}`);
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  } finally {
    await server.stop();
  }
}
console.log(`client vs C (${load.sessions} sessions, ${load.size} B, ${load.seconds} s, server cpu ${cpus.server || "any"}, client cpu ${cpus.client || "any"}):`);
for (const row of rows) console.log(`  ${row}`);
console.log(`median ratio iobench/C: ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
