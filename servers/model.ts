/**
 * What every server model provides. A model is started inside the server
 * process (servers/main.ts) by its supervisor thread, which owns signals;
 * the model's own threads are worker threads. The options it is started
 * with are contracts/server.ts.
 */
import type { ChatCounts } from "../protocol/chat.js";
import type { ServerOptions } from "../contracts/server.js";

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** Ends every thread, closes every fd; resolves when all threads have exited. */
  stop(): Promise<void>;
  /** chat: what the server counted so far (frames relayed, connections closed and why). */
  chatCounts?(): ChatCounts;
}

export type StartModel = (options: ServerOptions) => Promise<RunningServer>;

