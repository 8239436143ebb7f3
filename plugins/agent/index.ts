/**
 * The agent plugin: `opsterm agent`, `chat` and `connect` — a model that works on servers through
 * the remote tools (src/tools/remote-tools.ts), every call an action through the gate.
 */
import { definePlugin, type SchemaNode } from "../../src/kernel/index.ts";
import { agentCommands } from "./commands.ts";

const num = (description: string, min = 1, integer = true): SchemaNode => ({ type: "number", min, integer, description });

export default definePlugin({
  name: "agent",
  apiVersion: 1,
  description: "The AI agent: agent, chat and connect, with remote tools under the gate",
  config: {
    agent: {
      type: "object",
      description: "Limits of the AI agent (agent, chat, connect)",
      properties: {
        maxSteps: num("Model turns per task at most (default 25)"),
        callTimeout: num("Seconds a tool call may take (default 60)", 1, false),
        timeBudget: { type: "string", description: "How long one task may take, e.g. 30m (default 30m)" },
        tokenBudget: num("Tokens one session may use (default 500000)"),
      },
    },
  },
  commands: agentCommands,
  hooks: {
    async doctor(_, ctx) {
      return [
        { kind: "file", path: `${ctx.paths.dataDir}/agent/conversations`, description: "agent conversations (chat --continue)" },
        { kind: "file", path: `${ctx.paths.dataDir}/agent/host-facts.json`, description: "host facts the agent gathered (a day's cache)" },
      ];
    },
  },
});
