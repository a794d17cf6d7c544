/**
 * Short sessions: connect, one message, close, again. Measures the accept
 * path, where the completion-routine seed's polling accept (a non-blocking
 * accept between 100 ms alertable waits) shows.
 */
import type { Scenario } from "../format.js";

export default {
  name: "connect-storm",
  description: "64 sessions that each connect, send one 64 B message, close and reconnect: the accept path",
  sessions: 64,
  messageSize: 64,
  messagesPerSession: 1,
  loop: "closed",
  warmupSec: 1,
  durationSec: 5,
} satisfies Scenario;
