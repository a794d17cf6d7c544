/**
 * The micro-benchmark cases: each one a batch of `ops` hot-path operations
 * exactly as the client or a server performs them per message.
 */
import { byteView, makePattern, messageShift, verifyChunk } from "../clients/message.js";
import { FastRecorder } from "../clients/recorder.js";
import { createHistogram, recordUs } from "../contracts/histogram.js";
import { HTTP_DONE, HttpSessions } from "../clients/http-session.js";
import { HTTP_GET_BODY, HTTP_STATE_INTS, HttpResponder, httpCounterBuffer, httpReplyBound, httpReset } from "../protocol/http.js";

/** One case: `batch()` builds its state once and returns the function tinybench times. */
export interface MicroCase {
  name: string;
  /** Operations per call of the returned function. */
  ops: number;
  batch(): () => void;
}

/** Results are folded into this so no work can be optimised away. */
let sink = 0;
export function sinkValue(): number {
  return sink;
}

const OPS = 1000;

function verifyCase(size: number): MicroCase {
  return {
    name: `message: verify a ${size} B echo`,
    ops: OPS,
    batch() {
      const pattern = makePattern(size);
      const pv = byteView(pattern);
      // The echo as it would arrive: the message at shift s, in a recv buffer.
      const chunks = Array.from({ length: 16 }, (_, s) => byteView(Buffer.from(pattern.subarray(messageShift(1, s), messageShift(1, s) + size))));
      return () => {
        let ok = 0;
        for (let i = 0; i < OPS; i++) {
          const s = i & 15;
          if (verifyChunk(pv, messageShift(1, s), 0, chunks[s]!, 0, size)) ok++;
        }
        sink += ok;
      };
    },
  };
}

/** Latencies spread like a loaded run's: mostly under a millisecond, a tail up to 100 ms. */
function latencies(): Float64Array {
  const xs = new Float64Array(4096);
  let x = 0x12345678;
  for (let i = 0; i < xs.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u = (x >>> 0) / 2 ** 32;
    xs[i] = i % 100 === 0 ? 1000 + u * 99_000 : 20 + u * 800;
  }
  return xs;
}

/** The server's http framing: parse a read of `requests` and write every answer (one op = one request). */
function serverHttpCase(name: string, request: string, requests: number): MicroCase {
  const batch = Math.max(1, Math.floor(OPS / requests));
  return {
    name,
    ops: batch * requests,
    batch() {
      const input = Buffer.from(request.repeat(requests), "latin1");
      const out = new Uint8Array(httpReplyBound(input.length));
      const r = new HttpResponder(httpCounterBuffer());
      const st = new Int32Array(HTTP_STATE_INTS);
      httpReset(st, 0);
      return () => {
        let n = 0;
        for (let i = 0; i < batch; i++) n += r.reply(st, 0, input, 0, input.length, out, 0);
        sink += n;
      };
    },
  };
}

/** The client's http answer check (one op = one answer parsed and verified). */
function clientHttpCase(method: "GET" | "POST", size: number): MicroCase {
  return {
    name: `http client: check a ${method}${method === "POST" ? ` ${size} B` : ""} answer`,
    ops: OPS,
    batch() {
      const pattern = makePattern(size);
      const sessions = new HttpSessions(method, "127.0.0.1", size, pattern, 1, 65536);
      const body = method === "POST" ? pattern.subarray(0, size) : Buffer.from(HTTP_GET_BODY);
      const answer = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
      // recv as the socket would give it: the whole answer, then "drained".
      let given = false;
      const recv = (_fd: number, buf: Uint8Array): number => {
        if (given) return -11;
        given = true;
        buf.set(answer);
        return answer.length;
      };
      return () => {
        let done = 0;
        for (let i = 0; i < OPS; i++) {
          sessions.start(0);
          given = false;
          if (sessions.readable(recv, 0, 0, 0, -11, -4) === HTTP_DONE) done++;
        }
        sink += done;
      };
    },
  };
}

export const MICRO_CASES: MicroCase[] = [
  {
    name: "message: shift of (session, seq)",
    ops: OPS,
    batch() {
      return () => {
        let s = 0;
        for (let i = 0; i < OPS; i++) s ^= messageShift(i, i * 7);
        sink += s;
      };
    },
  },
  verifyCase(64),
  verifyCase(1024),
  verifyCase(16384),
  {
    name: "recorder: FastRecorder.record",
    ops: OPS,
    batch() {
      const r = new FastRecorder();
      const xs = latencies();
      let j = 0;
      return () => {
        for (let i = 0; i < OPS; i++) r.record(xs[j++ & 4095]!);
        sink += r.count;
      };
    },
  },
  {
    name: "recorder: hdr-histogram-js recordValue",
    ops: OPS,
    batch() {
      const h = createHistogram();
      const xs = latencies();
      let j = 0;
      return () => {
        for (let i = 0; i < OPS; i++) recordUs(h, xs[j++ & 4095]!);
        sink += h.totalCount;
      };
    },
  },
  serverHttpCase("http server: answer one GET per read", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 1),
  serverHttpCase("http server: answer 16 pipelined GETs", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 16),
  serverHttpCase("http server: answer a 1 KiB POST", `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1024\r\n\r\n${"x".repeat(1024)}`, 1),
  clientHttpCase("GET", 64),
  clientHttpCase("POST", 64),
  clientHttpCase("POST", 1024),
];
