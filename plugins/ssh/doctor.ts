/**
 * `opsterm doctor` findings for ssh: the inventory files and whether they load, and the
 * known_hosts file every connection is verified against.
 */
import { accessSync, constants, existsSync } from "node:fs";
import type { DoctorFinding, PluginContext } from "../../src/kernel/index.ts";
import { inventoryPaths } from "./inventory.ts";
import { inventoryFor, sshSettings } from "./settings.ts";

export async function sshDoctor(ctx: PluginContext): Promise<DoctorFinding[]> {
  const files: DoctorFinding[] = inventoryPaths(ctx.paths).map(({ scope, path }) => ({ kind: "file", path, description: `${scope} server inventory` }));
  return [...files, await inventoryCheck(ctx), await knownHostsCheck(ctx)];
}

async function inventoryCheck(ctx: PluginContext): Promise<DoctorFinding> {
  try {
    const inventory = await inventoryFor(ctx);
    // Every key file the inventory names (targets and jump hosts) must be there and readable.
    const missing = new Map<string, string[]>();
    for (const server of inventory.servers) {
      for (const hop of [server, ...server.via]) {
        if (!hop.key) continue;
        let ok = true;
        try {
          accessSync(hop.key, constants.R_OK);
        } catch {
          ok = false;
        }
        if (!ok) missing.set(hop.key, [...new Set([...(missing.get(hop.key) ?? []), hop.id])]);
      }
    }
    if (missing.size) {
      const list = [...missing].map(([key, ids]) => `${key} (${ids.join(", ")})`).join("; ");
      return { kind: "check", name: "servers", status: "fail", detail: `${inventory.servers.length} server(s); key file(s) missing or unreadable: ${list}`, hint: "Fix the key: path in servers.yaml, or restore the file (opsterm servers show ID says where it is defined)" };
    }
    return { kind: "check", name: "servers", status: "ok", detail: `${inventory.servers.length} server(s) in the inventory` };
  } catch (error) {
    const e = error as { message?: string; hint?: string };
    return { kind: "check", name: "servers", status: "fail", detail: String(e.message ?? error).split("\n")[0], hint: e.hint };
  }
}

async function knownHostsCheck(ctx: PluginContext): Promise<DoctorFinding> {
  const { knownHostsPath: path } = await sshSettings(ctx);
  if (!existsSync(path)) return { kind: "check", name: "known_hosts", status: "warn", detail: `${path} does not exist yet`, hint: "The first connection to a host asks for its key on a terminal (and is refused without one)" };
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return { kind: "check", name: "known_hosts", status: "fail", detail: `${path} is not readable: remote exec refuses every host`, hint: `Fix its permissions: chmod 600 ${path}` };
  }
  return { kind: "check", name: "known_hosts", status: "ok", detail: path };
}
