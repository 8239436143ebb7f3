/**
 * The chat plugin: AI questions over OpenAI-compatible APIs (ask, pipe mode, streaming), the
 * `provider` commands, suggested commands through the policy gate, and the "chat" service.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { chatCommands } from "./commands.ts";
import { CHAT_CONFIG } from "./config.ts";
import "./types.ts";

export default definePlugin({
  name: "chat",
  apiVersion: 1,
  description: "AI in the terminal: ask, pipe mode, providers, suggested commands",
  config: CHAT_CONFIG,
  commands: chatCommands,
  hooks: {
    // The providers' keys are secrets every redactor (audit, history) must know about.
    async secretValues(_, ctx) {
      const { cheapKeys } = await import("./config.ts");
      const config = await ctx.config().catch(() => undefined);
      return config ? cheapKeys(config.values, ctx.env) : undefined;
    },
    async doctor(_, ctx) {
      return (await import("./doctor.ts")).chatDoctor(ctx);
    },
  },
  async setup(ctx) {
    const { createChatService } = await import("./service.ts");
    ctx.provide("chat", createChatService(ctx));
  },
});
