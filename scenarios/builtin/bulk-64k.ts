/** Large messages: every 64 KiB echo takes several partial recv and send calls on both sides. */
import type { Scenario } from "../format.js";

export default {
  name: "bulk-64k",
  description: "64 KiB messages over 32 sessions: partial reads and writes, bytes/s rather than messages/s",
  sessions: 32,
  messageSize: "64k",
  loop: "closed",
  warmupSec: 1,
  durationSec: 5,
} satisfies Scenario;
