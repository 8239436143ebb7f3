/**
 * The ssh plugin: server inventory, interactive ssh, remote exec and fan-out. It serves the
 * `exec` and `session` action kinds through the gate, keeps one verified connection per server
 * per process (the pool), and lends those connections only to built-in executors.
 */
import { definePlugin, type ActionContext } from "../../src/kernel/index.ts";
import type { SshDeps, ServerExecutor } from "./executors.ts";
import type { InventoryLoader } from "./inventory-cache.ts";
import type { ConnectionPool } from "./pool.ts";
import { sshCommands } from "./commands.ts";
import { SSH_CONFIG } from "./config.ts";
import type { ConnectionLender, InventoryService } from "./types.ts";

export default definePlugin({
  name: "ssh",
  apiVersion: 1,
  description: "Server inventory, ssh sessions, remote exec and fan-out",
  commands: sshCommands,
  config: SSH_CONFIG,
  hooks: {
    async doctor(_, ctx) {
      return (await import("./doctor.ts")).sshDoctor(ctx);
    },
  },
  async setup(ctx) {
    // The inventory cache, the pool and ssh2 load on first use, not at start-up.
    // The promise is what is cached: `x ??= (await import(…)).make()` reads x before the await, so
    // callers that arrive together (a fan-out's hosts) each made their own (20 ids of one host were
    // 20 pools and 20 SSH connections).
    let cachePromise: Promise<InventoryLoader> | undefined;
    const loadInventory = async (c: Pick<ActionContext, "env" | "paths">) => (await (cachePromise ??= import("./inventory-cache.ts").then((m) => m.createInventoryCache())))(c);
    let pool: ConnectionPool | undefined;
    let poolPromise: Promise<ConnectionPool> | undefined;
    const deps: SshDeps = {
      pool: () => (poolPromise ??= import("./pool.ts").then((m) => (pool = m.createConnectionPool()))),
      inventory: loadInventory,
    };
    const load = () => loadInventory(ctx);
    const inventory: InventoryService = {
      list: async () => (await load()).servers,
      get: async (id) => (await load()).byId.get(id),
      resolveTargets: async (spec) => (await import("./inventory.ts")).resolveTargets(await load(), spec),
      resolveOne: async (spec, options) => (await import("./target.ts")).resolveOne(await load(), spec, options),
      target: async (spec, options) => (await import("./executors.ts")).resolveServerTarget(deps, { kind: "read", target: spec, via: options?.via }, ctx, options?.what),
      async addServers(entries, options = {}) {
        const added: string[] = [];
        const replaced: string[] = [];
        const kept: string[] = [];
        const path = await (await import("./commands.ts")).editServers(ctx, false, (doc, servers) => {
          for (const { id, entry } of entries) {
            if (id in servers && !options.replace) {
              kept.push(id);
              continue;
            }
            (id in servers ? replaced : added).push(id);
            // One line per server when it fits, as servers add writes them.
            doc.setIn(["servers", id], doc.createNode(entry, { flow: JSON.stringify(entry).length <= 72 }));
          }
        });
        cachePromise = undefined;
        return { path, added, replaced, kept };
      },
    };
    ctx.provide("inventory", inventory);
    const lender: ConnectionLender = {
      async lease(actionCtx, server, signal) {
        return (await import("./executors.ts")).lease(await deps.pool(), actionCtx, server, signal);
      },
    };
    ctx.provide("ssh.connections", lender, { builtinOnly: true });
    ctx.registerExecutor(lazyExecutor("exec", async () => (await import("./executors.ts")).execExecutor(deps)));
    ctx.registerExecutor(lazyExecutor("session", async () => (await import("./executors.ts")).sessionExecutor(deps)));
    return () => pool?.closeAll();
  },
});

/** An executor whose code is imported on first use (ssh2 costs start-up time). */
function lazyExecutor(kind: "exec" | "session", load: () => Promise<ServerExecutor>): ServerExecutor {
  let loaded: Promise<ServerExecutor> | undefined;
  const get = () => (loaded ??= load());
  return {
    kind,
    resolve: async (request, ctx) => (await get()).resolve(request, ctx),
    execute: async (run) => (await get()).execute(run),
  };
}
