/**
 * Starting a server model inside the current process: check the options,
 * make sure the machine can run the model at all, then load the model's
 * file and let it start its threads. Every failure is one line a user can
 * act on; the server process (main.ts) and the tests call this.
 */
import { sys, errname } from "../native/index.js";
import type { RunningServer, StartModel } from "./model.js";
import type { ServerOptions } from "../contracts/server.js";
import { findModel, modelNames, type ModelInfo } from "./models.js";
import { checkServerOptions } from "./options.js";
import { openListener } from "./listener.js";
import { checkMessageWork } from "../contracts/work.js";

/** Entries of the probe ring: the smallest io_uring worth asking for. */
const PROBE_ENTRIES = 8;

/** Starts the model `options.model` (a name or an alias) and resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  // The server entry: the one place a model name from outside (the process's JSON) is resolved.
  const info = findModel(String(options.model));
  if (info === undefined) throw new Error(`unknown model "${String(options.model)}" (one of: ${modelNames().join(", ")})`);
  options = { ...options, model: info.name };
  const problem = checkServerOptions(options);
  if (problem !== null) throw new Error(problem);
  options = { ...options, work: checkMessageWork(options.work) };
  if (info.usesIoUring) probeIoUring(info);
  // A model may word a busy port its own way; try it here so the user always
  // reads the same line. SO_REUSEADDR lets the model bind it again at once.
  if (options.port !== 0) sys.close(openListener(options));
  const start = await loadModel(info, options.protocol === "chat" || options.protocol === "chat-raw");
  return start(options);
}

async function loadModel(info: ModelInfo, chat: boolean): Promise<StartModel> {
  try {
    return await (chat ? info.loadChat() : info.load());
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new Error(`model ${info.name} cannot be loaded (${info.file}): ${message}`);
  }
}

/** io_uring can be compiled out, or forbidden by seccomp (Docker's default profile): say so before any thread starts. */
function probeIoUring(info: ModelInfo): void {
  const port = sys.portCreate(PROBE_ENTRIES);
  if (port < 0) throw new Error(`${info.name} needs io_uring, which this machine does not allow (io_uring_setup: ${errname(port)})`);
  sys.portClose(port);
}
