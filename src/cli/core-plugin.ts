/**
 * The CLI's own commands (plugin, config, completion, doctor), as a plugin like any other.
 */
import { definePlugin } from "../kernel/plugin.ts";
import { completionCommand } from "./commands/completion.ts";
import { configCommands } from "./commands/config.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { pluginCommands } from "./commands/plugin.ts";

export const corePlugin = definePlugin({
  name: "core",
  apiVersion: 1,
  description: "Plugins, config, completions and doctor",
  enforce: "pre",
  commands: [...pluginCommands, ...configCommands, completionCommand, doctorCommand],
});
