/**
 * Resolving a transfer's server from the inventory and opening its SSH connection with the ssh
 * plugin's connect(): host keys verified for the target and every hop, jump chains from the
 * inventory or `--via`.
 */
import { UsageError, type CommandContext } from "../../src/kernel/index.ts";
import { closest } from "../../src/lib/schema.ts";
import type { Connection, Hop, ResolvedServer } from "../ssh/types.ts";

/** Looks up `id` in the inventory; `via` (inventory ids) replaces its jump chain. */
export async function resolveServer(ctx: CommandContext, id: string, via?: string[]): Promise<ResolvedServer> {
  const inventory = ctx.use("inventory");
  // One read of servers.yaml for the target and every hop.
  const byId = new Map((await inventory.list()).map((s) => [s.id, s]));
  const server = byId.get(id) ?? (/[*?,@]/.test(id) ? exactlyOne(await inventory.resolveTargets(id), id) : undefined);
  if (!server) throw unknownServer(ctx, [...byId.keys()], id);
  if (!via) return server;
  const hops: Hop[] = [];
  for (const hopId of via) {
    const hop = byId.get(hopId);
    if (!hop) throw unknownServer(ctx, [...byId.keys()], hopId, "--via");
    hops.push({ id: hop.id, host: hop.host, port: hop.port, user: hop.user, key: hop.key });
  }
  return { ...server, via: hops, proxy: via };
}

/** A glob or tag is fine when it names exactly one server; a transfer never picks one of several. */
function exactlyOne(servers: ResolvedServer[], spec: string): ResolvedServer {
  if (servers.length === 1) return servers[0];
  throw new UsageError(`"${spec}" matches ${servers.length} servers (${servers.map((s) => s.id).join(", ")}); a transfer needs exactly one`, { code: "E_TARGET_AMBIGUOUS", hint: "Name one server id" });
}

function unknownServer(ctx: CommandContext, ids: string[], id: string, where = "server"): UsageError {
  const near = closest(id, ids);
  return new UsageError(`Unknown ${where} "${id}"${near ? `; did you mean "${near}"?` : ""}`, {
    code: "E_SERVER_UNKNOWN",
    hint: ids.length ? `Known servers: ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""} ("opsterm servers list")` : `Add one with "opsterm servers add", or write servers.yaml in ${ctx.paths.configDir}`,
  });
}

/** Opens the connection through the ssh plugin's "remote" service (its `ssh.*` settings, host-key checks, jump chain). */
export async function openConnection(ctx: CommandContext, server: ResolvedServer, signal?: AbortSignal): Promise<Connection> {
  return ctx.use("remote").connect(ctx, server, { signal });
}
