/**
 * The chat-fanout side of the bench flags (--protocol chat, --senders, and
 * the open-loop rates read per sender), checked against the rest of the
 * options. A scenario's server.protocol and senders arrive as flag text.
 */
import { CHAT_FIELDS_BYTES } from "../clients/chat-message.js";
import { MAX_CHAT_FRAME_BYTES, MAX_SESSIONS } from "../contracts/limits.js";
import type { ChatLoad, LoadOptions } from "../reports/schema.js";
import { UsageError } from "../contracts/errors.js";
import type { ServerOptions } from "../contracts/server.js";
import type { WorkSpec } from "../contracts/work.js";
import { integer, scalar } from "./parse.js";
import type { RawFlag } from "./parse.js";

/** chat-fanout defaults: a room of 32, 4 senders at 100 frames/s each (12,800 deliveries/s). */
export const CHAT_DEFAULTS = { members: 32, senders: 4, rateHz: 100 } as const;

/** What a chat run needs beyond the common options. */
export interface ChatChoice {
  chat: ChatLoad;
  /** The load, open loop at the per-sender rate, as results.json records it. */
  load: LoadOptions;
}

/**
 * For --protocol chat: the senders and their rate (--rate-per-session per
 * sender, --rate over all senders, else CHAT_DEFAULTS.rateHz), with the
 * combinations a room cannot run refused. For echo and http: refuses --senders.
 */
export function chatChoice(
  protocol: ServerOptions["protocol"],
  given: (flag: string) => RawFlag,
  load: LoadOptions,
  connections: readonly number[],
  sizesBytes: readonly number[],
  work: WorkSpec | null,
): ChatChoice | undefined {
  const sendersText = scalar(given("senders"));
  if (protocol !== "chat") {
    if (sendersText !== undefined) throw new UsageError("--senders applies to --protocol chat only");
    return undefined;
  }
  const senders = integer("senders", sendersText ?? String(Math.min(CHAT_DEFAULTS.senders, ...connections)), 1, MAX_SESSIONS);
  if (connections.some((c) => c < senders)) throw new UsageError(`--senders ${senders} is more than a room of --connections ${Math.min(...connections)}`);
  const small = sizesBytes.find((s) => s < CHAT_FIELDS_BYTES);
  if (small !== undefined) throw new UsageError(`--size ${small}: a chat frame carries at least ${CHAT_FIELDS_BYTES} bytes (sender, sequence, send time)`);
  const large = sizesBytes.find((s) => s > MAX_CHAT_FRAME_BYTES);
  if (large !== undefined) throw new UsageError(`--size ${large}: a chat frame carries at most ${MAX_CHAT_FRAME_BYTES} bytes`);
  if (load.sizeDistribution !== null) throw new UsageError("chat frames have one size per run: give --size");
  if (work !== null) throw new UsageError("--work applies to --protocol echo or http, not chat");
  if (load.messagesPerSession !== 0 || load.thinkTimeMs !== 0 || load.rampUpSec !== 0 || load.connectRatePerSec !== 0) {
    throw new UsageError("chat: members stay for the whole run; --messages-per-session, --think-time, --ramp-up and --connect-rate apply to echo only");
  }
  let rateHz: number = CHAT_DEFAULTS.rateHz;
  if (load.loop === "open") rateHz = load.ratePerSessionPerSec ?? (load.rateTotalPerSec as number) / senders;
  if (rateHz > 100_000) throw new UsageError(`chat: ${rateHz} frames/s per sender is over the client's 100000`);
  return {
    chat: { senders, rateHz },
    load: { ...load, protocol: "chat", loop: "open", ratePerSessionPerSec: rateHz, rateTotalPerSec: null },
  };
}
