/**
 * The listening socket, as every model opens and accepts on it: one place
 * for the user-facing messages ("127.0.0.1:9000 is already in use") and for
 * what each accept() failure means, so five models do not word or judge
 * them five ways.
 */
import { sys, C, errname } from "../native/index.js";
import type { ServerOptions } from "../contracts/server.js";

/** "127.0.0.1:9000", or "[::1]:9000" for IPv6. */
export function addressText(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Opens the listening socket (blocking, close-on-exec) with sys.listen, or
 * throws one line naming the problem.
 */
export function openListener(options: Pick<ServerOptions, "host" | "port" | "backlog" | "reusePort">): number {
  const fd = sys.listen(options.host, options.port, options.backlog, options.reusePort === true);
  if (fd >= 0) return fd;
  const where = addressText(options.host, options.port);
  if (fd === -C.EADDRINUSE) throw new Error(`${where} is already in use`);
  throw new Error(`cannot listen on ${where}: ${errname(fd)}`);
}

/** The port the listening socket got (the ephemeral one when port 0 was asked). */
export function boundPort(listenFd: number): number {
  const port = sys.localPort(listenFd);
  if (port < 0) throw new Error(`cannot read the listening port: ${errname(port)}`);
  return port;
}

/**
 * What a failed accept() asks of the caller:
 * - "again": nothing is pending (EAGAIN, non-blocking sockets only);
 * - "retry": this one connection failed (it was reset while queued, or the
 *   call was interrupted); accept the next one at once;
 * - "backoff": the process or system is out of fds or memory; retrying now
 *   would fail again and spin the CPU, so wait ~100 ms first;
 * - "fatal": a bug (EBADF, EINVAL on a socket that is not listening, ...).
 */
export type AcceptFailure = "again" | "retry" | "backoff" | "fatal";

/**
 * accept(2): Linux passes a pending network error of the new connection to
 * accept() itself, and the man page asks callers to treat those like EAGAIN.
 */
const RETRY = new Set(["EINTR", "ECONNABORTED", "EPROTO", "ENETDOWN", "ENOPROTOOPT", "EHOSTDOWN", "ENONET", "EHOSTUNREACH", "EOPNOTSUPP", "ENETUNREACH", "EPERM"]);
const BACKOFF = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

/** Classifies a negative accept() result. */
export function acceptFailure(r: number): AcceptFailure {
  if (r === -C.EAGAIN) return "again";
  const name = errname(r);
  if (RETRY.has(name)) return "retry";
  if (BACKOFF.has(name)) return "backoff";
  return "fatal";
}

/** How long a model waits after an accept "backoff" before it tries again. */
export const ACCEPT_BACKOFF_MS = 100;
