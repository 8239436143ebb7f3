/**
 * The CLI's own commands (plugin, workspace, config, completion, doctor), as a plugin like any other.
 */
import { definePlugin } from "../kernel/plugin.ts";
import { completeCommand } from "./commands/complete.ts";
import { completionCommand } from "./commands/completion.ts";
import { configCommands } from "./commands/config.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { manpageCommand } from "./commands/manpage.ts";
import { pluginCommands } from "./commands/plugin.ts";
import { workspaceCommands } from "./commands/workspace.ts";

export const corePlugin = definePlugin({
  name: "core",
  apiVersion: 1,
  description: "Plugins, workspaces, config, completions and doctor",
  enforce: "pre",
  commands: [...pluginCommands, ...workspaceCommands, ...configCommands, completionCommand, completeCommand, manpageCommand, doctorCommand],
});
