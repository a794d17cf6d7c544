/**
 * Which TCP ports a set of processes listens on, from /proc: the listening
 * sockets of /proc/net/tcp and tcp6 (state 0A), matched by inode to the
 * sockets in the processes' fd tables. So a command model that listens on
 * another port than the one it was given can be named with the port it
 * did take.
 */
import fs from "node:fs";

/** One listening socket. */
export interface Listener {
  address: string;
  port: number;
}

const LISTEN = "0A";

/** "0100007F" -> "127.0.0.1"; 32 hex digits -> an IPv6 address (four little-endian 32-bit words). */
function hexAddress(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(word.slice(b, b + 2), 16));
  }
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** The listening sockets of a /proc/net/tcp or tcp6 text, by inode. */
export function parseListeners(text: string): Map<number, Listener> {
  const found = new Map<number, Listener>();
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const [addr, port] = f[1]!.split(":");
    found.set(Number(f[9]), { address: hexAddress(addr!), port: parseInt(port!, 16) });
  }
  return found;
}

function socketInodes(pid: number): number[] {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes: number[] = [];
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The TCP ports the processes listen on now. */
export function listenersOf(pids: readonly number[]): Listener[] {
  const all = new Map<number, Listener>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const [inode, l] of parseListeners(fs.readFileSync(file, "utf8"))) all.set(inode, l);
    } catch {
      // no IPv6 on this machine
    }
  }
  const mine: Listener[] = [];
  for (const pid of pids) for (const inode of socketInodes(pid)) if (all.has(inode)) mine.push(all.get(inode)!);
  return mine;
}

/** "127.0.0.1:8080", "[::]:8080". */
export function listenerText(l: Listener): string {
  return l.address.includes(":") ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}
