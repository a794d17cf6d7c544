/** The seed client's pattern (StableEchoClnt) over many sessions: 64-byte messages, closed loop, connect once. */
import type { Scenario } from "../format.js";

export default {
  name: "pingpong-64b",
  description: "StableEchoClnt's pattern, 1,000 sessions: 64 B, next message as soon as the echo is back",
  sessions: 1000,
  messageSize: 64,
  loop: "closed",
  warmupSec: 1,
  durationSec: 5,
} satisfies Scenario;
