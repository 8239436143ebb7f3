/**
 * The built-in plugins, listed statically so the bundler embeds them in dist/opsterm.
 */
import type { OpstermPlugin } from "../src/kernel/index.ts";
import { corePlugin } from "../src/cli/core-plugin.ts";
import historyPlugin from "./history/index.ts";
import chatPlugin from "./chat/index.ts";
import scpPlugin from "./scp/index.ts";
import auditPlugin from "./audit/index.ts";
import sshPlugin from "./ssh/index.ts";
import policyPlugin from "./policy/index.ts";
import shellPlugin from "./shell/index.ts";
import localPlugin from "./local/index.ts";
import vaultPlugin from "./vault/index.ts";
import migratePlugin from "./migrate/index.ts";
import agentPlugin from "./agent/index.ts";
import mcpPlugin from "./mcp/index.ts";
import workflowPlugin from "./workflow/index.ts";

export const BUILTIN_PLUGINS: OpstermPlugin[] = [corePlugin, policyPlugin, historyPlugin, chatPlugin, auditPlugin, sshPlugin, scpPlugin, localPlugin, shellPlugin, vaultPlugin, migratePlugin, agentPlugin, mcpPlugin, workflowPlugin];
