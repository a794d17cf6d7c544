/**
 * A plain chat client for people following the book: like `nc`, but it
 * frames. Each line typed (stdin) goes out as one frame (its UTF-8 bytes, the
 * newline left off, empty lines skipped); each frame received is printed as
 * one line. Run a chat server, then this in two or more terminals:
 *
 *   npm run serve -- --model iocp --protocol chat --port 9000
 *   npm run chat -- 9000            (or: node dist/bench/chat-nc.js 127.0.0.1:9000)
 *
 * Ends when stdin ends (Ctrl-D) or the server closes the connection.
 */
import net from "node:net";
import { createInterface } from "node:readline";
import { FrameReader, HEADER_BYTES, encodeFrame } from "../protocol/chat.js";

/** "9000", "127.0.0.1:9000" or "[::1]:9000" → host and port; null if it is none of those. */
function parseTarget(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2] ?? "127.0.0.1", port };
}

function main(): void {
  const target = parseTarget(process.argv[2] ?? "");
  if (target === null) {
    process.stderr.write("usage: chat-nc [host:]port   (frames stdin lines, prints received frames)\n");
    process.exit(2);
  }
  const reader = new FrameReader(16 * 1024 * 1024);
  const socket = net.connect(target.port, target.host);
  socket.setNoDelay(true);
  socket.on("data", (chunk: Buffer) => {
    const error = reader.push(chunk, 0, chunk.length, (frame) => {
      process.stdout.write(`${Buffer.from(frame.subarray(HEADER_BYTES)).toString("utf8")}\n`);
    });
    if (error !== null) {
      process.stderr.write(`chat-nc: the server sent a ${error} frame\n`);
      socket.destroy();
    }
  });
  socket.on("error", (err: Error) => {
    process.stderr.write(`chat-nc: ${target.host}:${target.port}: ${err.message}\n`);
    process.exitCode = 1;
  });
  socket.on("close", () => process.exit());
  socket.on("connect", () => {
    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line: string) => {
      if (line.length > 0) socket.write(encodeFrame(Buffer.from(line, "utf8")));
    });
    lines.on("close", () => socket.end());
  });
}

main();
