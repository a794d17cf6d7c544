/**
 * What does a model's own code cost per message, beside plain C? Each server
 * (the C epoll yardstick and the chosen models, one thread each) is pinned to
 * one core and driven by the same client and load from the other; the
 * server's CPU µs per message comes from /proc over the measured window.
 * Servers are taken in a rotating order, R rounds, and each model's ratio to
 * the yardstick is the median of its per-round ratios.
 *
 *   npm run bench:server -- [--rounds 5] [--seconds 5] [--models epoll,iocp] [--engine epoll|uring]
 */
import { arg, buildReference, cpuPair, median, runIobenchClient, startModelServer, startReferenceServer, type StartedServer } from "./lib.js";

const rounds = arg("rounds", 5);
const load = { sessions: arg("sessions", 256), size: arg("size", 64), seconds: arg("seconds", 5) };
const mi = process.argv.indexOf("--models");
const ei = process.argv.indexOf("--engine");
// The client's engine changes how bursty the load is, and so what every server pays per message.
const engine = ei >= 0 ? process.argv[ei + 1] : undefined;
const models = (mi >= 0 ? process.argv[mi + 1] ?? "" : "epoll,iocp").split(",").filter((m) => m !== "");
const cpus = cpuPair();
const servers = ["c-epoll", ...models];

buildReference();
const perServer = new Map<string, number[]>(servers.map((s) => [s, []]));
const ratios = new Map<string, number[]>(models.map((m) => [m, []]));
for (let r = 0; r < rounds; r++) {
  const order = servers.map((_, i) => servers[(i + r) % servers.length] ?? "");
  const round = new Map<string, number>();
  for (const name of order) {
    const server: StartedServer = name === "c-epoll" ? await startReferenceServer(cpus.server) : await startModelServer(name, 1, cpus.server);
    try {
      const run = runIobenchClient(server, { ...load, cpus: cpus.client, ...(engine === undefined ? {} : { engine }) });
      if (run.serverCpuUsPerMessage === null) throw new Error(`${name}: no server CPU figure`);
      round.set(name, run.serverCpuUsPerMessage);
      perServer.get(name)?.push(run.serverCpuUsPerMessage);
      process.stderr.write(`round ${r + 1} ${name}: ${run.serverCpuUsPerMessage.toFixed(2)} µs/msg, ${run.messagesPerSec.toFixed(0)} msg/s` +
        `${run.clientSaturated ? " (client-saturated)" : ""}${run.errors > 0 ? ` ERRORS ${run.errors}` : ""}\n`);
    } finally {
      await server.stop();
    }
  }
  const base = round.get("c-epoll") ?? NaN;
  for (const m of models) ratios.get(m)?.push((round.get(m) ?? NaN) / base);
}
console.log(`server CPU µs per message (client engine ${engine ?? "default"}, ${load.sessions} sessions, ${load.size} B, ${load.seconds} s, one server thread, median of ${rounds} rounds):`);
for (const s of servers) {
  const line = `  ${s.padEnd(20)} ${median(perServer.get(s) ?? []).toFixed(2)} µs/msg`;
  const ratio = ratios.get(s);
  console.log(ratio === undefined ? line : `${line}   ratio to C ${median(ratio).toFixed(3)} (min ${Math.min(...ratio).toFixed(3)}, max ${Math.max(...ratio).toFixed(3)})`);
}
