/**
 * The book's chat protocol (exercise 6, IOCPchatserv_win.cpp): whatever
 * bytes one recv returns are sent as they are to every connected client,
 * the sender included. No framing, so the chapter's chat client
 * (examples/chat-client.c) and `nc` take part as they are.
 *
 * What it cannot promise: a message is whatever the sender's bytes were cut
 * into by the network, so two members typing at once may see their lines
 * spliced, and a long line may arrive in pieces with another member's bytes
 * between them. That is why iobench measures the framed protocol
 * (protocol/chat.ts), where every frame is relayed whole, and keeps this
 * one for the book's clients.
 *
 * A chat server relays either through the same per-connection reader:
 * chatReader() picks the framing, so each model's fan-out (its own idiom)
 * serves both protocols unchanged. A raw piece is at most maxFrameBytes,
 * so an output ring that holds one largest frame holds one piece.
 */
import { FrameReader, scanFrames, type FrameError } from "./chat.js";

/** The two chat protocols a server speaks. */
export type ChatProtocol = "chat" | "chat-raw";

/** Cuts one connection's bytes into what the server relays. */
export interface ChatReader {
  /** Feeds data[off, off+len); onMessage gets each message, valid during the call only. Returns null, or the error that must close the connection. */
  push(data: Uint8Array, off: number, len: number, onMessage: (message: Uint8Array) => void): FrameError | null;
  /** Forgets a held partial message (the reader is reused for a new connection). */
  reset(): void;
}

/** chat-raw: every read relayed as it came, in pieces of at most `maxPieceBytes`. */
export class RawReader implements ChatReader {
  constructor(private readonly maxPieceBytes: number) {}

  push(data: Uint8Array, off: number, len: number, onMessage: (message: Uint8Array) => void): null {
    rawPieces(off, off + len, this.maxPieceBytes, (at, length) => onMessage(data.subarray(at, at + length)));
    return null;
  }

  reset(): void {
    // nothing is ever held
  }
}

function rawPieces(start: number, end: number, maxPieceBytes: number, onPiece: (at: number, length: number) => void): void {
  for (let at = start; at < end; at += maxPieceBytes) onPiece(at, Math.min(maxPieceBytes, end - at));
}

/** The chat protocol a server was asked for (a chat server is started for these two only). */
export function chatProtocol(protocol: string): ChatProtocol {
  return protocol === "chat-raw" ? "chat-raw" : "chat";
}

/** A connection's reader for `protocol`. */
export function chatReader(protocol: ChatProtocol, maxFrameBytes: number): ChatReader {
  return protocol === "chat-raw" ? new RawReader(maxFrameBytes) : new FrameReader(maxFrameBytes);
}

/**
 * scanFrames for either protocol, for a model that keeps a partial frame in
 * its own receive buffer (iocp): calls onMessage(at, length) for each
 * message in buf[start, end) and returns where the unfinished rest begins
 * (end for chat-raw: nothing is held back), or a frame's error.
 */
export function scanMessages(
  protocol: ChatProtocol,
  buf: Uint8Array,
  start: number,
  end: number,
  maxFrameBytes: number,
  onMessage: (at: number, length: number) => void,
): number | FrameError {
  if (protocol === "chat") return scanFrames(buf, start, end, maxFrameBytes, onMessage);
  rawPieces(start, end, maxFrameBytes, onMessage);
  return end;
}
