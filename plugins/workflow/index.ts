/**
 * The workflow plugin: runbooks in YAML (the original OpsTerm `workflows.yaml` and one
 * `workflows/NAME.yaml` per workflow) that run the same from a terminal and from cron. Every step
 * is an action through the gate with the invocation's run id; runs are recorded in history.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { workflowCommands } from "./commands.ts";

export default definePlugin({
  name: "workflow",
  apiVersion: 1,
  description: "Workflows: multi-step runbooks on servers and this machine, from a terminal or cron",
  commands: workflowCommands,
  config: {
    workflow: {
      type: "object",
      description: "Workflow settings",
      properties: {
        // Global-only: a workspace must not decide where run reports are sent.
        notify: { type: "string", globalOnly: true, description: "URL pinged by --cron runs (healthchecks.io style: /start, /<exit code>) when a workflow sets no notify: (global config only)" },
      },
    },
  },
  hooks: {
    doctor: (_, ctx) => [
      { kind: "file", path: `${ctx.paths.configDir}/workflows.yaml`, description: "workflows (original OpsTerm format)" },
      { kind: "file", path: `${ctx.paths.configDir}/workflows/`, description: "workflows, one per file" },
    ],
  },
});
