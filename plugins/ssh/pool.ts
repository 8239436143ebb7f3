/**
 * One verified connection per server (and jump chain) per process, shared by every action that
 * goes there: the agent, workflows and the MCP server make dozens of calls to the same host, and
 * each handshake costs a round trip per hop plus key exchange. The host key is verified once, when
 * the connection is made. Connections close after a quiet spell and at exit.
 */
import { connect, type Connection, type ConnectOptions } from "./connect.ts";
import type { ResolvedServer } from "./types.ts";

/** A connection lent to one action; release it when the action is done. */
export interface Lease {
  conn: Connection;
  release(): void;
}

export interface PoolOptions {
  /** Close a connection nobody used for this long. Default 60 s. */
  idleMs?: number;
  /**
   * Channels at once per connection. OpenSSH allows 10 sessions per connection (MaxSessions);
   * more actions on one host wait for a free channel instead of failing.
   */
  maxChannels?: number;
}

export interface ConnectionPool {
  acquire(server: ResolvedServer, options: ConnectOptions): Promise<Lease>;
  /** Open connections, for tests and `--debug`. */
  size(): number;
  closeAll(): void;
}

interface Entry {
  conn: Promise<Connection>;
  /** Leases handed out or waited for: the connection is idle only at 0. */
  active: number;
  /** Channels in use: at most maxChannels. A slot is taken only once the connection is up. */
  busy: number;
  waiting: (() => void)[];
  idle?: ReturnType<typeof setTimeout>;
  dead: boolean;
}

/** Same server, user, key and chain → same connection. */
export function poolKey(server: ResolvedServer): string {
  const hop = (h: { user: string; host: string; port: number; key?: string }) => `${h.user}@${h.host}:${h.port}${h.key ? `#${h.key}` : ""}`;
  return [...server.via, server].map(hop).join(" > ");
}

export function createConnectionPool(options: PoolOptions = {}): ConnectionPool {
  const idleMs = options.idleMs ?? 60_000;
  const maxChannels = options.maxChannels ?? 8;
  const entries = new Map<string, Entry>();

  const evict = (key: string, entry: Entry) => {
    entry.dead = true;
    if (entry.idle) clearTimeout(entry.idle);
    if (entries.get(key) === entry) entries.delete(key);
  };

  async function acquire(server: ResolvedServer, connectOptions: ConnectOptions): Promise<Lease> {
    const key = poolKey(server);
    let entry = entries.get(key);
    if (!entry || entry.dead) {
      // The connect deadline and abort belong to the first caller; later callers share the result.
      const created: Entry = { conn: connect(server, connectOptions), active: 0, busy: 0, waiting: [], dead: false };
      entry = created;
      entries.set(key, created);
      created.conn.then(
        (conn) => void conn.closed.then(() => evict(key, created)),
        () => evict(key, created),
      );
    }
    const current = entry;
    if (current.idle) clearTimeout(current.idle);
    current.idle = undefined;
    current.active++;
    let conn: Connection;
    try {
      conn = await current.conn;
    } catch (error) {
      current.active--;
      throw error;
    }
    // A free slot is taken now; otherwise a releasing lease hands its slot over (busy unchanged).
    // (Counting the waiters as busy, as `active` does, made nine callers that arrived while the
    // connection was opening all wait for each other: a fan-out over 9+ ids of one host hung.)
    if (current.busy < maxChannels) current.busy++;
    else await new Promise<void>((resolve) => current.waiting.push(resolve));
    let released = false;
    return {
      conn,
      release() {
        if (released) return;
        released = true;
        current.active--;
        const next = current.waiting.shift();
        if (next) next();
        else current.busy--;
        if (current.active > 0 || current.dead) return;
        current.idle = setTimeout(() => {
          evict(key, current);
          conn.close();
        }, idleMs);
        // An idle connection must not keep the process alive.
        current.idle.unref?.();
      },
    };
  }

  return {
    acquire,
    size: () => entries.size,
    closeAll() {
      for (const [key, entry] of [...entries]) {
        evict(key, entry);
        entry.conn.then((c) => c.close(), () => {});
      }
    },
  };
}
