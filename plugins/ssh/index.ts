/**
 * The ssh plugin: server inventory, interactive ssh, policy-gated remote exec and fan-out.
 * Provides the "inventory" and "remote" services.
 */
import { definePlugin, UsageError, type PluginContext } from "../../src/kernel/index.ts";
import { sshCommands } from "./commands.ts";
import { SSH_CONFIG } from "./config.ts";
import type { InventoryService, RemoteService } from "./types.ts";

/** This invocation's context, for hooks (they receive only their payload). */
let pluginCtx: PluginContext | undefined;

export default definePlugin({
  name: "ssh",
  apiVersion: 1,
  description: "Server inventory, ssh sessions, remote exec and fan-out",
  commands: sshCommands,
  config: SSH_CONFIG,
  hooks: {
    async doctor() {
      return pluginCtx && (await import("./doctor.ts")).sshDoctor(pluginCtx);
    },
  },
  setup(ctx) {
    pluginCtx = ctx;
    const settings = () => import("./settings.ts");
    const load = async () => (await settings()).inventoryFor(ctx);
    const inventory: InventoryService = {
      list: async () => (await load()).servers,
      get: async (id) => (await load()).byId.get(id),
      resolveTargets: async (spec) => (await settings()).resolveTargets(await load(), spec),
    };
    const remote: RemoteService = {
      async exec(targetId, command, options) {
        const { sshSettings, connectOptions, announceShadows } = await settings();
        const { execAction } = await import("./exec.ts");
        const server = await inventory.get(targetId);
        if (!server) throw new UsageError(`Unknown server "${targetId}"`, { code: "E_TARGET", hint: '"opsterm servers list" shows the ids' });
        const cmdCtx = options.ctx;
        announceShadows(cmdCtx, [server]);
        const connect = connectOptions(cmdCtx, await sshSettings(cmdCtx), options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {});
        return execAction(cmdCtx, server, command, { ...options, connect, signal: options.signal ?? cmdCtx.signal });
      },
      async connect(cmdCtx, server, options = {}) {
        const [{ sshSettings, connectOptions, announceShadows }, { connect }] = await Promise.all([settings(), import("./connect.ts")]);
        announceShadows(cmdCtx, [server]);
        return connect(server, connectOptions(cmdCtx, await sshSettings(cmdCtx), options.signal ? { signal: options.signal } : {}));
      },
    };
    ctx.provide("inventory", inventory);
    ctx.provide("remote", remote);
  },
});
