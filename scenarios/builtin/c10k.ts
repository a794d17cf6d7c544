/**
 * The C10K problem: 10,000 mostly idle connections, each sending about once
 * a second. Open loop, so a server that falls behind shows in the
 * corrected latency instead of slowing the client down; the sessions
 * connect over a 3 s ramp-up and the warm-up lets every one connect before
 * the window opens.
 */
import type { Scenario } from "../format.js";

export default {
  name: "c10k",
  description: "10,000 mostly idle sessions, each sending 64 B about once a second (open loop, 10,000 msg/s in total)",
  sessions: 10_000,
  rampUpSec: 3,
  messageSize: 64,
  loop: "open",
  ratePerSessionPerSec: 1,
  warmupSec: 5,
  durationSec: 10,
  timeoutMs: 10_000,
} satisfies Scenario;
