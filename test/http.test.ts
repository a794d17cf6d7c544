/**
 * The http state machine (protocol/http.ts), alone: answers, splits
 * at every byte boundary, refusals, the answer-size bound, and fuzzed input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HTTP_GET_BODY,
  HTTP_HEAD_LIMIT,
  HTTP_STATE_INTS,
  HttpResponder,
  httpCounterBuffer,
  httpCounts,
  httpMustClose,
  httpReadBytes,
  httpReplyBound,
  httpReset,
} from "../protocol/http.js";

const GET_ANSWER = `HTTP/1.1 200 OK\r\nContent-Length: ${HTTP_GET_BODY.length}\r\n\r\n${HTTP_GET_BODY}`;
const postAnswer = (body: string, close = false): string =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}${close ? "\r\nConnection: close" : ""}\r\n\r\n${body}`;
const BAD = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const TOO_LONG = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/** Feeds `chunks` to one connection (each as one read) and returns all it answered. */
function feed(chunks: readonly Uint8Array[], counters = httpCounterBuffer()): { answer: string; closed: boolean; counters: SharedArrayBuffer } {
  const r = new HttpResponder(counters);
  const st = new Int32Array(HTTP_STATE_INTS + 3);
  httpReset(st, 3); // not at offset 0: the state may live in a shared table
  const parts: Buffer[] = [];
  for (const c of chunks) {
    const out = Buffer.alloc(httpReplyBound(c.length) + 5);
    const n = r.reply(st, 3, c, 0, c.length, out, 5);
    assert.ok(n <= httpReplyBound(c.length), `an answer of ${n} bytes to a ${c.length}-byte read exceeds the bound`);
    parts.push(out.subarray(5, 5 + n));
  }
  return { answer: Buffer.concat(parts).toString("latin1"), closed: httpMustClose(st, 3), counters };
}

const one = (s: string): { answer: string; closed: boolean; counters: SharedArrayBuffer } => feed([Buffer.from(s, "latin1")]);

test("GET answers the fixed body, POST echoes its body, keep-alive", () => {
  assert.equal(one("GET / HTTP/1.1\r\nHost: x\r\n\r\n").answer, GET_ANSWER);
  const r = one("POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  assert.equal(r.answer, postAnswer("hello"));
  assert.equal(r.closed, false);
  assert.equal(one("POST / HTTP/1.1\r\n\r\n").answer, postAnswer(""), "POST without Content-Length has an empty body");
  assert.equal(one("POST / HTTP/1.1\r\ncontent-LENGTH:  0012 \r\n\r\nabcdefghijkl").answer, postAnswer("abcdefghijkl"), "case, white space, leading zeros");
  assert.equal(one("GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET / HTTP/1.1\r\n\r\n").answer, GET_ANSWER + GET_ANSWER, "a GET body is dropped");
});

test("HTTP/1.0 and Connection: close get their answer, then close; later input is ignored", () => {
  const c = one("GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  assert.match(c.answer, /^HTTP\/1\.1 200 OK\r\nContent-Length: \d+\r\nConnection: close\r\n\r\n/);
  assert.equal(c.answer.split("HTTP/1.1").length, 2, "only the first request is answered");
  assert.equal(c.closed, true);
  assert.equal(one("GET / HTTP/1.0\r\n\r\n").closed, true);
  assert.equal(one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").closed, false);
  assert.equal(one("GET / HTTP/1.1\r\nConnection: closer\r\n\r\n").closed, false, "only the whole value counts");
  const p = one("POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
  assert.equal(p.answer, postAnswer("ok", true));
  assert.equal(p.closed, true);
});

/** A pipeline of every kind of request, answered in order. */
const PIPELINE = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "POST /x HTTP/1.1\r\nContent-Length: 11\r\nX-Other: 1\r\n\r\nhello world",
  "GET /long/target?q=1 HTTP/1.1\r\nAccept: */*\r\nUser-Agent: test\r\n\r\n",
  "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
  "POST / HTTP/1.1\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n\r\n\r",
];
const PIPELINE_ANSWER = GET_ANSWER + postAnswer("hello world") + GET_ANSWER + postAnswer("") + postAnswer("\r\n\r");

test("pipelined requests split at every byte boundary (and at random) answer exactly as in one read", () => {
  const all = Buffer.from(PIPELINE.join(""), "latin1");
  assert.equal(feed([all]).answer, PIPELINE_ANSWER);
  for (let i = 0; i <= all.length; i++) {
    for (const j of [i, Math.min(all.length, i + 1), Math.min(all.length, i + 17)]) {
      const r = feed([all.subarray(0, i), all.subarray(i, j), all.subarray(j)]);
      assert.equal(r.answer, PIPELINE_ANSWER, `split at ${i} and ${j}`);
      assert.equal(r.closed, false);
    }
  }
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < all.length; ) {
      const n = 1 + rand(24);
      chunks.push(all.subarray(at, at + n));
      at += n;
    }
    assert.equal(feed(chunks).answer, PIPELINE_ANSWER, `random split round ${round}`);
  }
  assert.equal(httpCounts(feed([all]).counters).requests, PIPELINE.length);
});

test("malformed requests are answered 400 and close, counted; an over-long head 431", () => {
  const malformed = [
    "get / HTTP/1.1\r\n\r\n", // methods are case-sensitive
    "PUT / HTTP/1.1\r\n\r\n", // only GET and POST
    "GETS / HTTP/1.1\r\n\r\n",
    "GET  HTTP/1.1\r\n\r\n", // no target
    "GET / HTTP/2.0\r\n\r\n",
    "GET / HTTP/1.1\n\n", // bare LF
    "GET / HTTP/1.1\r\nHost x\r\n\r\n", // no colon
    "GET / HTTP/1.1\r\n: empty\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", // obs-fold
    "GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n", // control byte
    "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "\r\nGET / HTTP/1.1\r\n\r\n",
    "\x00\xff\x80garbage",
  ];
  const counters = httpCounterBuffer();
  for (const m of malformed) {
    const r = feed([Buffer.from(m, "latin1"), Buffer.from("GET / HTTP/1.1\r\n\r\n")], counters);
    assert.equal(r.answer, BAD, JSON.stringify(m));
    assert.equal(r.closed, true, JSON.stringify(m));
  }
  // A good request first: answered, then the bad one refused.
  assert.equal(one("GET / HTTP/1.1\r\n\r\nBAD\r\n").answer, GET_ANSWER + BAD);
  const long = `GET / HTTP/1.1\r\nX: ${"a".repeat(HTTP_HEAD_LIMIT)}\r\n\r\n`;
  const r = feed([Buffer.from(long.slice(0, 5000)), Buffer.from(long.slice(5000))], counters);
  assert.equal(r.answer, TOO_LONG);
  assert.equal(r.closed, true);
  // Exactly at the limit is still fine.
  const atLimit = `GET / HTTP/1.1\r\nX: ${"a".repeat(HTTP_HEAD_LIMIT - 23)}\r\n\r\n`;
  assert.equal(Buffer.byteLength(atLimit), HTTP_HEAD_LIMIT);
  assert.equal(one(atLimit).answer, GET_ANSWER);
  assert.deepEqual(httpCounts(counters), { requests: 0, badRequests: malformed.length, headsTooLong: 1, headerTimeouts: 0 });
});

test("a read and its answer fit the cap; the answer never exceeds its bound, whatever the input", () => {
  for (const cap of [700, 1000, 4096, 65536, 1 << 20]) {
    const n = httpReadBytes(cap);
    assert.ok(n >= 1, `cap ${cap}`);
    assert.ok(n + httpReplyBound(n) <= cap, `cap ${cap}: ${n} + ${httpReplyBound(n)}`);
  }
  // The densest answers: minimal GETs back to back, split one byte off.
  const dense = Buffer.from("GET / HTTP/1.1\r\n\r\n".repeat(200));
  for (const cut of [1, 17, 18, 19]) feed([dense.subarray(0, cut), dense.subarray(cut)]);
  // Refused too small a room rather than writing past it.
  const r = new HttpResponder(httpCounterBuffer());
  const st = new Int32Array(HTTP_STATE_INTS);
  httpReset(st, 0);
  assert.throws(() => r.reply(st, 0, dense, 0, 100, new Uint8Array(50), 0), RangeError);
});

test("fuzz: random bytes and mutated requests never throw, and end in answers or a refusal", () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const base = Buffer.from(PIPELINE.join(""), "latin1");
  for (let round = 0; round < 2000; round++) {
    const input = Buffer.from(base);
    if (round % 2 === 0) for (let k = 0; k < 1 + rand(3); k++) input[rand(input.length)] = rand(256);
    else for (let k = 0; k < input.length; k++) input[k] = rand(256);
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length; ) {
      const n = 1 + rand(40);
      chunks.push(input.subarray(at, at + n));
      at += n;
    }
    const r = feed(chunks);
    // Either everything was answered (the mutation kept it valid) or it ended in one refusal.
    if (r.answer.endsWith(BAD)) assert.equal(r.closed, true);
    else assert.ok(r.answer.startsWith("HTTP/1.1 200 OK"), `round ${round}: ${JSON.stringify(r.answer.slice(0, 80))}`);
  }
});
