/**
 * What every server model provides. A model is started inside the server
 * process (servers/main.ts) by its supervisor thread, which owns signals;
 * the model's own threads are worker threads. The options it is started
 * with are contracts/server.ts.
 */
import type { ChatCounts } from "../protocol/chat.js";
import type { ServerOptions } from "../contracts/server.js";
import type { PortStats } from "../native/index.js";

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** Ends every thread, closes every fd; resolves when all threads have exited. */
  stop(): Promise<void>;
  /** chat: what the server counted so far (frames relayed, connections closed and why). */
  chatCounts?(): ChatCounts;
  /** iocp: the completion port's counters (after stop(), as they were when it closed). */
  portStats?(): PortStats | null;
}

export type StartModel = (options: ServerOptions) => Promise<RunningServer>;

