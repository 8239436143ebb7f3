/**
 * The chat plugin: AI questions over OpenAI-compatible APIs (ask, pipe mode, streaming), the
 * `provider` commands, suggested commands through the policy gate, and the "chat" service.
 */
import { definePlugin, type PluginContext } from "../../src/kernel/index.ts";
import { chatCommands } from "./commands.ts";
import { CHAT_CONFIG } from "./config.ts";
import "./types.ts";

let pluginCtx: PluginContext | undefined;

export default definePlugin({
  name: "chat",
  apiVersion: 1,
  description: "AI in the terminal: ask, pipe mode, providers, suggested commands",
  config: CHAT_CONFIG,
  commands: chatCommands,
  hooks: {
    // The providers' keys are secrets every redactor (audit, history) must know about.
    async secretValues() {
      if (!pluginCtx) return undefined;
      const { cheapKeys } = await import("./config.ts");
      const config = await pluginCtx.config().catch(() => undefined);
      return config ? cheapKeys(config.values, pluginCtx.env) : undefined;
    },
    async doctor() {
      return pluginCtx && (await import("./doctor.ts")).chatDoctor(pluginCtx);
    },
  },
  async setup(ctx) {
    pluginCtx = ctx;
    const { createChatService } = await import("./service.ts");
    ctx.provide("chat", createChatService(ctx));
  },
});
