/** CPU-bound per-message work: the server spins 50 µs per message, so the CPU, not the I/O model, is the bound. */
import type { Scenario } from "../format.js";

export default {
  name: "cpu-work",
  description: "64 sessions, 64 B messages, the server computes 50 µs per message",
  sessions: 64,
  messageSize: 64,
  loop: "closed",
  warmupSec: 1,
  durationSec: 5,
  server: { work: "cpu:50us" },
} satisfies Scenario;
