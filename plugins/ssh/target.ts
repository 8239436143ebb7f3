/**
 * One server for one action: an inventory id (or a glob/tag that names exactly one), with its
 * jump chain optionally replaced by `--via` ids. Commands that act on one server (ssh, scp, put,
 * get) and the executors share it, so they refuse the same things the same way.
 */
import { UsageError } from "../../src/kernel/index.ts";
import { resolveTargets, type Inventory } from "./inventory.ts";
import type { Hop, ResolvedServer } from "./types.ts";

const UNSAFE = /^-|[\x00-\x20\x7f]/;

export function resolveOne(inventory: Inventory, spec: string, options: { via?: string[]; what?: string } = {}): ResolvedServer {
  if (UNSAFE.test(spec)) throw new UsageError(`Refusing server ${JSON.stringify(spec)}: it starts with "-" or holds spaces or control characters`, { code: "E_UNSAFE_ARG" });
  const server = inventory.byId.get(spec) ?? exactlyOne(resolveTargets(inventory, spec), spec, options.what ?? "this");
  if (!options.via) return server;
  const via: Hop[] = options.via.map((id) => {
    const hop = inventory.byId.get(id);
    if (!hop) throw new UsageError(`Unknown jump host "${id}" in --via`, { code: "E_TARGET", hint: '"opsterm servers list" shows the ids' });
    return { id: hop.id, host: hop.host, port: hop.port, user: hop.user, key: hop.key };
  });
  return { ...server, via, proxy: via.map((h) => h.id) };
}

/** A command that works on one server refuses a target that names several, rather than picking one. */
export function exactlyOne(servers: ResolvedServer[], spec: string, what: string): ResolvedServer {
  if (servers.length === 1) return servers[0];
  throw new UsageError(`"${spec}" matches ${servers.length} servers (${servers.map((s) => s.id).join(", ")}); ${what} needs exactly one`, {
    code: "E_TARGET_AMBIGUOUS",
    hint: what === "ssh" ? `Name one id, or run a command on all of them with: opsterm exec ${JSON.stringify(spec)} -- <command>` : "Name one id",
  });
}
