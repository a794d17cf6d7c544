/**
 * Exercise 6 as the book means it: the chapter's chat client (ported in
 * examples/chat-client.c) and a plain `nc` talk through every model's
 * --protocol chat-raw server. Each line one types reaches the other
 * (the client's as "[name] line"), and each sees its own line come back,
 * as IOCPchatserv relays to every client, the sender included.
 *
 * nc comes from the Debian package netcat-openbsd (scripts/ensure-netcat.sh
 * installs it when it may); without it the test is skipped, saying why.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { MODELS } from "../servers/models.js";
import { ROOT, startServerProcess } from "./conformance/server.js";

const CHAT_CLIENT = path.join(ROOT, "examples/bin/chat-client");

/** nc's path, or why there is none. */
function findNetcat(): { path: string } | { why: string } {
  const r = spawnSync(path.join(ROOT, "scripts/ensure-netcat.sh"), { encoding: "utf8", timeout: 300_000 });
  if (r.status === 0) return { path: r.stdout.trim() };
  return { why: (r.stderr.trim().split("\n").pop() ?? "") || `ensure-netcat.sh exited ${r.status}` };
}

/** A program on the other end of pipes: what it printed so far, and a way to type a line. */
class Terminal {
  out = "";
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (this.out += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (this.out += s));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  type(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Waits until it has printed `text`; false after timeoutMs. */
  async shows(text: string, timeoutMs = 5_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.out.includes(text) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return this.out.includes(text);
  }
}

let netcat: { path: string } | { why: string } = { why: "not looked for yet" };

before(() => {
  execFileSync("make", ["-s", "-C", path.join(ROOT, "examples")], { stdio: "inherit" });
  netcat = findNetcat();
});

describe("chat-raw: the book's chat client and nc on every model", { concurrency: 1 }, () => {
  for (const model of MODELS) {
    test(model.name, { timeout: 30_000 }, async (t) => {
      if (!("path" in netcat)) return t.skip(`nc is not available and could not be installed: ${netcat.why}`);
      const threads = model.name === "blocking" ? "per-connection" : 2;
      const server = await startServerProcess({ model: model.name, threads, protocol: "chat-raw" });
      const spawnHere = (file: string, args: string[]): Terminal => new Terminal(spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] }));
      const alice = spawnHere(CHAT_CLIENT, ["127.0.0.1", String(server.port), "alice"]);
      const nc = spawnHere(netcat.path, ["127.0.0.1", String(server.port)]);
      try {
        // A member joins when the server's thread gets to it: nc says hello until alice hears it.
        let heard = false;
        for (let i = 0; i < 25 && !heard; i++) {
          nc.type("hello from nc");
          heard = await alice.shows("hello from nc\n", 200);
        }
        assert.ok(heard, `alice never heard nc; alice printed: ${JSON.stringify(alice.out)}`);
        alice.type("hi from alice");
        assert.ok(await nc.shows("[alice] hi from alice\n"), `nc printed: ${JSON.stringify(nc.out)}`);
        assert.ok(await alice.shows("[alice] hi from alice\n"), "alice's own line came back to her, as the book's server sends to every client");
        nc.type("bye, alice");
        assert.ok(await alice.shows("bye, alice\n"));
        alice.type("q");
        assert.equal(await alice.exited, 0, "q ends the chat client");
      } finally {
        alice.child.kill("SIGKILL");
        nc.child.kill("SIGKILL");
        await server.stop();
      }
      assert.equal(server.stderr(), "", "the server wrote on stderr");
    });
  }
});
