/**
 * The server-option rules (servers/options.ts) read the model table's
 * capabilities: change a capability and the rule follows, with no model
 * name written in a rule.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "../contracts/server.js";
import { MODELS, modelInfo, type ModelInfo } from "../servers/models.js";
import { acceptsThreads, chatBufferFloor, checkServerOptions, threadsProblem } from "../servers/options.js";

const options = (o: Partial<ServerOptions>): ServerOptions => ({ ...DEFAULT_SERVER_OPTIONS, model: "epoll", threads: 2, ...o });

test("every model's defaults pass, with every protocol it speaks", () => {
  for (const m of MODELS) {
    for (const protocol of m.capabilities.protocols) assert.equal(checkServerOptions(options({ model: m.name, protocol })), null, `${m.name} ${protocol}`);
  }
});

test("per-connection threads: only the models whose capabilities say so", () => {
  for (const m of MODELS) {
    const problem = checkServerOptions(options({ model: m.name, threads: "per-connection" }));
    if (m.capabilities.perConnection) assert.equal(problem, null, m.name);
    else assert.equal(problem, `threads per-connection applies to the blocking model only (not ${m.name})`);
  }
  // The rule follows the data, not a name.
  const epollWithIt: ModelInfo = { ...modelInfo("epoll"), capabilities: { ...modelInfo("epoll").capabilities, perConnection: true } };
  assert.equal(acceptsThreads(epollWithIt, "per-connection"), true);
  assert.equal(threadsProblem([modelInfo("epoll"), modelInfo("node")], "per-connection", { threads: "--threads" }), "--threads per-connection applies to the blocking model only");
  assert.equal(threadsProblem([modelInfo("epoll"), modelInfo("blocking")], "per-connection"), null);
  assert.match(checkServerOptions(options({ threads: 0 })) ?? "", /^threads must be a whole number from 1 to 1024, not 0/);
});

test("an option only some models honour is refused, by name, for the others", () => {
  assert.equal(checkServerOptions(options({ model: "completion-routine", accept: "ring" })), null);
  assert.equal(checkServerOptions(options({ model: "epoll", accept: "ring" })), "accept applies to the completion-routine model only, not epoll");
  assert.equal(checkServerOptions(options({ model: "iocp", accept: "ring" }), { accept: "--accept" }), "--accept applies to the completion-routine model only, not iocp");
  assert.equal(checkServerOptions(options({ model: "blocking", threads: "per-connection", maxConnectionThreads: 8 })), null);
  assert.match(checkServerOptions(options({ model: "node", maxConnectionThreads: 8 })) ?? "", /^maxConnectionThreads applies to the blocking model only/);
});

test("the chat buffer rule: one largest frame and its header, named as the caller names the options", () => {
  const floor = chatBufferFloor(1000);
  assert.equal(floor, 1004);
  assert.equal(checkServerOptions(options({ protocol: "chat", maxFrameBytes: 1000, bufferBytes: floor })), null);
  assert.equal(
    checkServerOptions(options({ protocol: "chat", maxFrameBytes: 1000, bufferBytes: floor - 1 }), { bufferBytes: "--buffer", maxFrameBytes: "--max-frame" }),
    "--buffer 1003 must hold one largest chat frame (--max-frame 1000 + 4)",
  );
  assert.equal(
    checkServerOptions(options({ protocol: "chat", work: { kind: "cpu", durationUs: 10, messageBytes: 64 } })),
    "work applies to protocol echo or http, not chat",
  );
});

test("an unknown model name is refused with the list of names", () => {
  assert.match(checkServerOptions(options({ model: "select" as ServerOptions["model"] })) ?? "", /^unknown model "select" \(one of: blocking, /);
});
