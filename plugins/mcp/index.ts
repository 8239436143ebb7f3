/**
 * The mcp plugin: `opsterm mcp`, an MCP server on stdio serving src/tools/remote-tools.ts through
 * the gate, the approvals queue its approval-required calls wait in, and `opsterm approvals` to
 * answer them from another terminal. The SDK is loaded by `opsterm mcp` only.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { mcpCommands } from "./commands.ts";

export default definePlugin({
  name: "mcp",
  apiVersion: 1,
  description: "MCP server on stdio (opsterm's remote tools for other AI CLIs) and the approvals queue",
  config: {
    mcp: {
      type: "object",
      description: "The MCP server (opsterm mcp)",
      properties: {
        approvalTimeout: {
          type: "number",
          min: 1,
          max: 3600,
          globalOnly: true,
          description: "Seconds an approval-required MCP call waits for `opsterm approvals approve ID` before it returns the id (default 120; global config only)",
        },
      },
    },
  },
  commands: mcpCommands,
});
