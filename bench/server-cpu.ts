/**
 * What does a model's own code cost per message, beside plain C? Each server
 * (the C epoll echo yardstick, then the chosen servers, one thread each) is
 * pinned to one core and driven by the same client and load from the other;
 * the server's CPU µs per message comes from /proc over the measured window.
 * Servers are taken in a rotating order, R rounds, and each one's ratio to
 * the C epoll yardstick is the median of its per-round ratios. `c-uring`
 * names the C io_uring yardstick (bench/reference/uring-echo-server.c).
 *
 *   npm run bench:server -- [--rounds 5] [--seconds 5] [--models epoll,iocp,c-uring] [--engine epoll|uring]
 */
import { arg, buildReference, cpuPair, interleaved, median, ratios, runIobenchClient, startModelServer, startReferenceServer } from "./lib.js";

const rounds = arg("rounds", 5);
const load = { sessions: arg("sessions", 256), size: arg("size", 64), seconds: arg("seconds", 5) };
const mi = process.argv.indexOf("--models");
const ei = process.argv.indexOf("--engine");
// The client's engine changes how bursty the load is, and so what every server pays per message.
const engine = ei >= 0 ? process.argv[ei + 1] : undefined;
const models = (mi >= 0 ? process.argv[mi + 1] ?? "" : "epoll,iocp").split(",").filter((m) => m !== "" && m !== "c-epoll");
const cpus = cpuPair();
const servers = ["c-epoll", ...models];

buildReference();
const perServer = await interleaved(servers, rounds, async (name, r) => {
  const server =
    name === "c-epoll" || name === "c-uring" ? await startReferenceServer(cpus.server, name) : await startModelServer(name, 1, cpus.server);
  try {
    const run = runIobenchClient(server, { ...load, cpus: cpus.client, ...(engine === undefined ? {} : { engine }) });
    if (run.serverCpuUsPerMessage === null) throw new Error(`${name}: no server CPU figure`);
    process.stderr.write(`round ${r + 1} ${name}: ${run.serverCpuUsPerMessage.toFixed(2)} µs/msg, ${run.messagesPerSec.toFixed(0)} msg/s` +
      `${run.clientSaturated ? " (client-saturated)" : ""}${run.errors > 0 ? ` ERRORS ${run.errors}` : ""}\n`);
    return run.serverCpuUsPerMessage;
  } finally {
    await server.stop();
  }
});
console.log(`server CPU µs per message (client engine ${engine ?? "default"}, ${load.sessions} sessions, ${load.size} B, ${load.seconds} s, one server thread, median of ${rounds} rounds):`);
const base = perServer.get("c-epoll") ?? [];
for (const s of servers) {
  const values = perServer.get(s) ?? [];
  const line = `  ${s.padEnd(20)} ${median(values).toFixed(2)} µs/msg`;
  const ratio = ratios(values, base);
  console.log(s === "c-epoll" ? line : `${line}   ratio to C ${median(ratio).toFixed(3)} (min ${Math.min(...ratio).toFixed(3)}, max ${Math.max(...ratio).toFixed(3)})`);
}
