/**
 * The http protocol's checks (protocol/http.ts): keep-alive with pipelined
 * requests answered in order, POST bodies echoed byte for byte whatever
 * the reads' boundaries, 400 for a malformed request and 431 for an
 * over-long head (each then closed), and a client that pipelines without
 * reading costs the others nothing. Answers are parsed, not compared byte
 * for byte, so a server may add headers of its own (Date, Server).
 */
import type net from "node:net";
import { HTTP_HEAD_LIMIT } from "../../protocol/http.js";
import { closeSocket, connect, delay, firstDifference, pattern, type Target } from "./net.js";
import { floodBeside } from "./flood.js";
import { expect, type Check } from "./suite.js";

const KiB = 1024;
const MiB = 1024 * KiB;

const GET = "GET / HTTP/1.1\r\nHost: conform\r\n\r\n";
const post = (body: Buffer): Buffer => Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: conform\r\nContent-Length: ${body.length}\r\n\r\n`), body]);

/** One parsed answer. */
interface Answer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/**
 * Cuts `bytes` into whole answers (Content-Length framing); an incomplete
 * one at the end is left out. Throws on bytes that are not HTTP.
 */
function parseAnswers(bytes: Buffer): Answer[] {
  const answers: Answer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf("\r\n\r\n", at, "latin1");
    if (headEnd < 0) break;
    const lines = bytes.subarray(at, headEnd).toString("latin1").split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (m === null) throw new Error(`not an HTTP status line: ${JSON.stringify((lines[0] ?? "").slice(0, 60))}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get("content-length") ?? "NaN");
    if (!Number.isInteger(length)) throw new Error(`answer ${answers.length + 1} (${m[1]}) has no Content-Length`);
    const bodyStart = headEnd + 4;
    if (bytes.length - bodyStart < length) break;
    answers.push({ status: Number(m[1]), headers, body: bytes.subarray(bodyStart, bodyStart + length) });
    at = bodyStart + length;
  }
  return answers;
}

/** What came back: the whole answers, and whether the server closed (else the wait had all it wanted, or timed out). */
interface Answers {
  answers: Answer[];
  closed: boolean;
}

/** Reads until `count` whole answers have arrived, the server closed, or timeoutMs passed; rejects on bytes that are not HTTP. */
function readAnswers(socket: net.Socket, count: number, timeoutMs: number): Promise<Answers> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      try {
        resolve({ answers: parseAnswers(buf), closed });
      } catch (err) {
        reject(err as Error);
      }
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      try {
        if (parseAnswers(buf).length >= count) finish(false);
      } catch (err) {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("close", onClose);
        reject(err as Error);
      }
    };
    const onClose = (): void => finish(true);
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.resume();
  });
}

/** "3 of 200 answers, then the server closed" / "... within 10 s". */
function shortOf(got: Answers, count: number, timeoutMs: number): string {
  return `${got.answers.length} of ${count} answers${got.closed ? ", then the server closed" : ` within ${timeoutMs / 1000} s`}`;
}

/** Sends `request`, expects one answer with `status`, then the server's close. */
async function refusal(target: Target, request: string, status: number, what: string): Promise<void> {
  const socket = await connect(target);
  try {
    const got = readAnswers(socket, Infinity, 5_000);
    socket.write(request);
    const { answers, closed } = await got;
    expect(answers.length >= 1, () => `${what}: no answer${closed ? " before the server closed" : " within 5 s"}`);
    expect(answers[0]!.status === status, () => `${what}: answered ${answers[0]!.status}, not ${status}`);
    expect(answers.length === 1, () => `${what}: ${answers.length} answers`);
    expect(closed, () => `${what}: answered ${status} but not closed within 5 s`);
  } finally {
    await closeSocket(socket);
  }
}

/** A GET answered 200 with a body: the server still serves. */
async function getServed(target: Target, what: string): Promise<void> {
  const socket = await connect(target);
  try {
    const got = readAnswers(socket, 1, 10_000);
    socket.write(GET);
    const answers = await got;
    expect(answers.answers[0]?.status === 200, () => `${what}: a GET was answered ${answers.answers[0]?.status ?? `with nothing (${shortOf(answers, 1, 10_000)})`}`);
  } finally {
    await closeSocket(socket);
  }
}

const pipelining: Check = {
  id: "http-pipelining",
  title: "answers 200 pipelined GETs and POSTs in order, twice on one connection",
  async run({ target }) {
    const requests: Buffer[] = [];
    const bodies: (Buffer | null)[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) {
        const body = pattern(1 + ((i * 37) % 300), i);
        requests.push(post(body));
        bodies.push(body);
      } else {
        requests.push(Buffer.from(GET));
        bodies.push(null);
      }
    }
    const socket = await connect(target);
    try {
      for (let round = 0; round < 2; round++) {
        const got = readAnswers(socket, bodies.length, 10_000);
        socket.write(Buffer.concat(requests));
        const all = await got;
        const answers = all.answers;
        expect(answers.length === bodies.length, () => `round ${round + 1}: ${shortOf(all, bodies.length, 10_000)}`);
        for (const [i, a] of answers.entries()) {
          expect(a.status === 200, () => `round ${round + 1}, request ${i + 1}: answered ${a.status}`);
          const body = bodies[i] ?? null;
          expect(body === null || a.body.equals(body), () => `round ${round + 1}, request ${i + 1} (POST of ${body?.length} B): the body differs at byte ${firstDifference(a.body, body!)}`);
        }
      }
    } finally {
      await closeSocket(socket);
    }
    return "2 × 200 pipelined requests (a third POSTs) answered 200 in order, POST bodies echoed";
  },
};

const postSizes: Check = {
  id: "http-post",
  title: "echoes POST bodies of 1 B to 1 MiB, the head split from the body",
  async run({ target }) {
    for (const size of [1, 64 * KiB, MiB]) {
      const body = pattern(size, size);
      const socket = await connect(target);
      try {
        const request = post(body);
        const got = readAnswers(socket, 1, 10_000);
        socket.write(request.subarray(0, 20));
        await delay(20);
        socket.write(request.subarray(20));
        const all = await got;
        const answer = all.answers[0];
        expect(answer !== undefined && answer.status === 200, () => `POST of ${size} B: ${answer === undefined ? shortOf(all, 1, 10_000) : `answered ${answer.status}`}`);
        expect(answer.body.equals(body), () => `POST of ${size} B: the body differs at byte ${firstDifference(answer.body, body)}`);
      } finally {
        await closeSocket(socket);
      }
    }
    await getServed(target, "after the POSTs");
    return "POST bodies of 1 B, 64 KiB and 1 MiB echoed, head sent in two pieces";
  },
};

const malformed: Check = {
  id: "http-malformed",
  title: "a malformed request gets 400 and a close; others are still served",
  async run({ target }) {
    await refusal(target, "BREW /pot HTTP/1.1\r\n\r\n", 400, "an unknown method");
    await refusal(target, "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "a Content-Length that is not a number");
    await getServed(target, "after the malformed requests");
    return "an unknown method and a bad Content-Length: 400, then closed; a GET served after";
  },
};

const longHead: Check = {
  id: "http-long-head",
  title: `a head over ${HTTP_HEAD_LIMIT} bytes gets 431 and a close; others are still served`,
  async run({ target }) {
    await refusal(target, `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(HTTP_HEAD_LIMIT)}\r\n\r\n`, 431, `a ${HTTP_HEAD_LIMIT + 40}-byte head`);
    await getServed(target, "after the long head");
    return `a ${HTTP_HEAD_LIMIT + 40}-byte head: 431, then closed; a GET served after`;
  },
};

const nonReader: Check = {
  id: "http-non-reader",
  title: "a client that pipelines 48 MiB of GETs and never reads costs the others nothing",
  async run(ctx) {
    await getServed(ctx.target, "before");
    // GETs answer about twice their size: unbounded, a server would hold ~100 MiB.
    const chunk = Buffer.from(GET.repeat(Math.floor(MiB / GET.length)));
    return floodBeside(ctx, chunk, 48, () => getServed(ctx.target, "beside a client that never reads"), "GETs");
  },
};

export const HTTP_CHECKS: readonly Check[] = [pipelining, postSizes, malformed, longHead, nonReader];
