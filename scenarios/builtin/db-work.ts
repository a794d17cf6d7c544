/**
 * Slow per-message work that blocks the serving thread for 2 ms, like a
 * database query: throughput is bounded by threads × 500 msg/s, so thread
 * counts matter, and a blocking server with fewer threads than sessions
 * leaves sessions unserved (the served column says how many).
 */
import type { Scenario } from "../format.js";

export default {
  name: "db-work",
  description: "64 sessions, 64 B messages, the server blocks 2 ms per message (a slow database call)",
  sessions: 64,
  messageSize: 64,
  loop: "closed",
  warmupSec: 1,
  durationSec: 5,
  server: { work: "block:2ms" },
} satisfies Scenario;
