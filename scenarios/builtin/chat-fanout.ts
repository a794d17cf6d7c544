/**
 * Exercise 6's chat server under load: one room of 32 members, 4 of them
 * sending 100 frames of 64 B a second each, so every frame is written to 32
 * sockets, most of them owned by other threads. Latency is the fan-out
 * delivery time (send to receipt at each member); every frame must reach
 * every member once, whole and in its sender's order.
 */
import type { Scenario } from "../format.js";

export default {
  name: "chat-fanout",
  description: "one chat room of 32, 4 senders at 100 frames/s each (64 B): fan-out delivery latency",
  sessions: 32,
  messageSize: 64,
  loop: "open",
  ratePerSessionPerSec: 100,
  senders: 4,
  warmupSec: 1,
  durationSec: 5,
  server: { protocol: "chat" },
} satisfies Scenario;
