/**
 * The node model's chat server: N worker threads, each a plain `net.Server`
 * on the one shared listening fd, as in node.ts.
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
import net from "node:net";
import { BroadcastChannel, isMainThread, parentPort, workerData } from "node:worker_threads";
import type { StartModel } from "../model.js";
import { boundPort, openListener } from "../listener.js";
import { ChatCounters } from "../../protocol/chat.js";
import { chatProtocol, chatReader, type ChatProtocol } from "../../protocol/chat-raw.js";
import { poolThreads, signalReady, startThreads, whenExited, whenReady } from "../threads.js";

/** What the supervisor gives each thread. */
interface NodeChatThreadData {
  model: "node-chat";
  listenFd: number;
  backlog: number;
  /** Output backlog cap per connection, bytes. */
  cap: number;
  maxFrameBytes: number;
  /** Frames (chat) or each read as it came (chat-raw). */
  framing: ChatProtocol;
  /** BroadcastChannel of the room. */
  room: string;
  counters: SharedArrayBuffer;
}

/** The supervisor's message that ends a thread. */
const STOP = "stop";

let serverCount = 0;

export const start: StartModel = async (options) => {
  const threads = poolThreads(options);
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  const counters = new ChatCounters();
  const data: NodeChatThreadData = {
    model: "node-chat",
    listenFd,
    backlog: options.backlog,
    cap: options.bufferBytes,
    maxFrameBytes: options.maxFrameBytes,
    framing: chatProtocol(options.protocol),
    room: `iobench-chat-node-${process.pid}-${serverCount++}`,
    counters: counters.buffer,
  };
  const workers = startThreads(import.meta.url, threads, () => data);
  const stop = async (): Promise<void> => {
    for (const w of workers) w.postMessage(STOP);
    await whenExited(workers);
  };
  try {
    await whenReady(workers);
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  return { host: options.host, port, stop, chatCounts: () => counters.read() };
};

// ---- one thread ----------------------------------------------------------------------

function serve(d: NodeChatThreadData): void {
  const control = parentPort;
  if (control === null) return;
  const counters = new ChatCounters(d.counters);
  const sockets = new Set<net.Socket>();
  const room = new BroadcastChannel(d.room);

  /** Writes one whole frame to every socket this loop owns. */
  const deliver = (frame: Uint8Array): void => {
    for (const s of sockets) {
      if (s.writableLength + frame.length > d.cap) {
        counters.add("slowDropped");
        sockets.delete(s);
        s.destroy();
      } else {
        s.write(frame);
      }
    }
  };
  room.onmessage = (event: unknown) => deliver((event as { data: Uint8Array }).data);

  const server = net.createServer({ highWaterMark: d.cap }, (socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const reader = chatReader(d.framing, d.maxFrameBytes);
    const onFrame = (view: Uint8Array): void => {
      const frame = Buffer.from(view); // the view is only valid during the call
      counters.add("frames");
      deliver(frame);
      room.postMessage(frame);
    };
    socket.on("data", (chunk: Buffer) => {
      const error = reader.push(chunk, 0, chunk.length, onFrame);
      if (error === null) return;
      counters.badFrame(error);
      sockets.delete(socket);
      socket.destroy();
    });
    socket.on("close", () => sockets.delete(socket));
    // ECONNRESET, EPIPE: the peer went away; without a listener it would take the server down.
    socket.on("error", () => socket.destroy());
  });
  server.on("error", () => undefined); // one failed accept; the others go on
  server.listen({ fd: d.listenFd, backlog: d.backlog }, () => signalReady());

  control.on("message", (m: unknown) => {
    if (m !== STOP) return;
    // As in node.ts: every thread closes the shared fd; after the first, libuv ignores EBADF.
    room.close();
    server.close(() => control.close());
    for (const s of sockets) s.destroy();
  });
}

if (!isMainThread && (workerData as { model?: unknown } | null)?.model === "node-chat") serve(workerData as NodeChatThreadData);
