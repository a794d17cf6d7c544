/**
 * What a chat client puts in a frame's payload, so that every receiver can
 * time the fan-out and prove each frame arrived once, whole, in order:
 *
 *     offset 0   uint32 BE  sender id
 *     offset 4   uint32 BE  the sender's sequence number (0, 1, 2, ...)
 *     offset 8   float64 BE send time, µs on the process's monotonic clock
 *     offset 16  filler up to the payload size: byte i = (sender + seq + i) & 0xff
 *
 * The filler depends on sender, seq and position, so a frame cut short,
 * spliced with another or shifted fails the check. The server never looks
 * inside a payload (protocol/chat.ts); only clients do.
 */
import { HEADER_BYTES } from "../protocol/chat.js";

/** The fixed part of a payload, bytes; the smallest payload size. */
export const CHAT_FIELDS_BYTES = 16;

/** The monotonic clock every thread of a process shares, µs (a frame's send time). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A whole frame (header + payload of `payloadBytes`) for (sender, seq, sentUs). */
export function chatFrame(sender: number, seq: number, sentUs: number, payloadBytes: number): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payloadBytes);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payloadBytes);
  view.setUint32(HEADER_BYTES, sender);
  view.setUint32(HEADER_BYTES + 4, seq);
  view.setFloat64(HEADER_BYTES + 8, sentUs);
  const base = sender + seq;
  for (let i = CHAT_FIELDS_BYTES; i < payloadBytes; i++) frame[HEADER_BYTES + i] = (base + i) & 0xff;
  return frame;
}

/** A received frame's fields, or null if it is not a whole chat frame. */
export interface ChatFields {
  sender: number;
  seq: number;
  sentUs: number;
}

/** Reads and checks a whole frame (header included) as received. */
export function readChatFrame(frame: Uint8Array): ChatFields | null {
  if (frame.length < HEADER_BYTES + CHAT_FIELDS_BYTES) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const payloadBytes = view.getUint32(0);
  if (payloadBytes !== frame.length - HEADER_BYTES) return null;
  const sender = view.getUint32(HEADER_BYTES);
  const seq = view.getUint32(HEADER_BYTES + 4);
  const sentUs = view.getFloat64(HEADER_BYTES + 8);
  const base = sender + seq;
  for (let i = CHAT_FIELDS_BYTES; i < payloadBytes; i++) if (frame[HEADER_BYTES + i] !== ((base + i) & 0xff)) return null;
  return { sender, seq, sentUs };
}

/**
 * Per-sender order at one receiver: what it expects next from each sender.
 * A frame that repeats or goes back is a violation; one that skips ahead
 * means the frames in between were lost (skipped). At the end, frames a
 * sender sent past the last one received are missing too (see received()).
 */
export class SenderOrder {
  private readonly next = new Map<number, number>();
  /** Frames that repeated an earlier one or came after a later one. */
  violations = 0;
  /** Frames jumped over: a later frame of the same sender came first. */
  skipped = 0;

  /** Records a frame; false if it broke the order. */
  see(sender: number, seq: number): boolean {
    const expected = this.next.get(sender) ?? 0;
    if (seq === expected) {
      this.next.set(sender, seq + 1);
      return true;
    }
    if (seq > expected) {
      this.skipped += seq - expected;
      this.next.set(sender, seq + 1); // go on from here
    } else {
      this.violations++;
    }
    return false;
  }

  /** Frames received in order from `sender` (its next expected seq). */
  received(sender: number): number {
    return this.next.get(sender) ?? 0;
  }
}
