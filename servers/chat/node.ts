/**
 * The node model's chat server: N worker threads, each a plain `net.Server`
 * on the one shared listening fd: node.ts's NodeThread, with each socket
 * served as a member of the room.
 *
 * Fan-out, Node's way: a socket belongs to the event loop that accepted it,
 * and only that loop may write to it. A thread that reads a whole frame
 * writes it to its own sockets and posts it on a BroadcastChannel (a
 * MessagePort underneath: the message is copied and the receiving loop is
 * woken by libuv); every other loop then writes it to its own sockets.
 * Messages from one thread arrive in the order it posted them, and each
 * frame is one write(), so frames stay whole and in per-sender order.
 *
 * Output bound: Node buffers what the kernel does not take at once
 * (socket.writableLength). A frame that would take a socket's backlog over
 * the cap drops that socket instead (counted): a client that stops reading
 * never makes its loop, or any other, wait.
 */
import type net from "node:net";
import { BroadcastChannel, isMainThread, workerData } from "node:worker_threads";
import type { StartModel } from "../model.js";
import { NodeThread, startNode, type NodeThreadData } from "../node.js";
import { ChatCounters } from "../../protocol/chat.js";
import { chatProtocol, chatReader, type ChatProtocol } from "../../protocol/chat-raw.js";

/** What the supervisor gives each thread besides node.ts's data. */
interface NodeChatThreadData extends NodeThreadData {
  model: "node-chat";
  /** Output backlog cap per connection, bytes. */
  cap: number;
  maxFrameBytes: number;
  /** Frames (chat) or each read as it came (chat-raw). */
  framing: ChatProtocol;
  /** BroadcastChannel of the room. */
  room: string;
  counters: SharedArrayBuffer;
}

let serverCount = 0;

export const start: StartModel = async (options) => {
  const counters = new ChatCounters();
  const server = await startNode(options, import.meta.url, {
    model: "node-chat",
    cap: options.bufferBytes,
    maxFrameBytes: options.maxFrameBytes,
    framing: chatProtocol(options.protocol),
    room: `iobench-chat-node-${process.pid}-${serverCount++}`,
    counters: counters.buffer,
  });
  return { ...server, chatCounts: () => counters.read() };
};

// ---- one thread ----------------------------------------------------------------------

class ChatThread extends NodeThread {
  private readonly chat: NodeChatThreadData;
  private readonly counters: ChatCounters;
  private readonly room: BroadcastChannel;

  constructor(d: NodeChatThreadData) {
    super(d);
    this.chat = d;
    this.counters = new ChatCounters(d.counters);
    this.room = new BroadcastChannel(d.room);
    this.room.onmessage = (event: unknown) => this.deliver((event as { data: Uint8Array }).data);
  }

  /** Writes one whole frame to every socket this loop owns. */
  private deliver(frame: Uint8Array): void {
    for (const s of this.sockets) {
      if (s.writableLength + frame.length > this.chat.cap) {
        this.counters.add("slowDropped");
        this.sockets.delete(s);
        s.destroy();
      } else {
        s.write(frame);
      }
    }
  }

  /** A member: every whole frame it sends goes to this loop's sockets, then to every other loop's. */
  protected override serveSocket(socket: net.Socket): void {
    const reader = chatReader(this.chat.framing, this.chat.maxFrameBytes);
    const onFrame = (view: Uint8Array): void => {
      const frame = Buffer.from(view); // the view is only valid during the call
      this.counters.add("frames");
      this.deliver(frame);
      this.room.postMessage(frame);
    };
    socket.on("data", (chunk: Buffer) => {
      const error = reader.push(chunk, 0, chunk.length, onFrame);
      if (error === null) return;
      this.counters.badFrame(error);
      this.sockets.delete(socket);
      socket.destroy();
    });
    socket.on("end", () => socket.end()); // a member that ends its side leaves the room
  }

  protected override stopping(): void {
    this.room.close();
  }
}

if (!isMainThread && (workerData as { model?: unknown } | null)?.model === "node-chat") new ChatThread(workerData as NodeChatThreadData).run();
