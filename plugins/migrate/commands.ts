/**
 * `opsterm migrate` (the original OpsTerm's folder → opsterm), `opsterm export|import` (a bundle
 * of config, servers, workflows and policy), and the original's words opsterm has no command for.
 */
import { defineCommand, UsageError, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";

const migrate = defineCommand({
  name: "migrate",
  description: "Bring the original OpsTerm's settings over: providers, API keys (into the vault), servers, workflows, history",
  options: [
    { flags: "--dry-run", description: "Show what would be done; write nothing" },
    { flags: "--from <dir>", description: "The original's folder (default: $OPSTERM_DIR, ~/.opsterm, ~/.ai-workflows)" },
  ],
  examples: ["opsterm migrate --dry-run", "opsterm migrate", "opsterm migrate --from ~/backup/.opsterm --json"],
  async action(args, ctx) {
    const { runMigrate } = await import("./migrate.ts");
    return runMigrate(ctx, { dryRun: Boolean(args.dryRun), from: args.from === undefined ? undefined : String(args.from) });
  },
});

const exportCmd = defineCommand({
  name: "export",
  description: "Write config, servers, workflows and policy into one bundle file (API keys left out)",
  usage: "<file>",
  options: [
    { flags: "--include-secrets", description: "Add the vault (encrypted as it is); needs a vault" },
    { flags: "--force", description: "Replace the file if it exists" },
  ],
  examples: ["opsterm export opsterm-settings.json", "opsterm export settings.json --include-secrets"],
  async action(args, ctx) {
    const { runExport } = await import("./bundle.ts");
    return runExport(ctx, String(args.file), { includeSecrets: Boolean(args.includeSecrets), force: Boolean(args.force) });
  },
});

const importCmd = defineCommand({
  name: "import",
  description: "Bring in a bundle from opsterm export: adds what is missing; a file that differs needs --force",
  usage: "<file>",
  options: [
    { flags: "--dry-run", description: "Show what would change; write nothing" },
    { flags: "--force", description: "Replace what differs (a replaced file is kept as .bak)" },
  ],
  examples: ["opsterm import opsterm-settings.json --dry-run", "opsterm import opsterm-settings.json"],
  async action(args, ctx) {
    const { runImport } = await import("./bundle.ts");
    return runImport(ctx, String(args.file), { dryRun: Boolean(args.dryRun), force: Boolean(args.force) });
  },
});

/** The original's commands opsterm has no counterpart for: a one-line answer, not a question for the model. */
const RETIRED: Record<string, { why: string; hint: string; options?: { flags: string; description: string }[] }> = {
  web: {
    why: "opsterm has no web dashboard (the original OpsTerm's `opsterm web`)",
    hint: 'Use the commands: opsterm servers list, opsterm provider list, opsterm history. To ask the model about it: opsterm ask "…"',
    options: [
      { flags: "-p, --port <port>", description: "(the original's option)" },
      { flags: "-o, --open", description: "(the original's option)" },
    ],
  },
  update: {
    why: "opsterm does not update itself (the original OpsTerm's `opsterm update`)",
    hint: 'Install a newer release the way you installed this one; opsterm --version shows this one. To ask the model: opsterm ask "…"',
  },
  reset: {
    why: "opsterm has no reset (the original OpsTerm's `opsterm reset`)",
    hint: '"opsterm config path" shows where the settings are; move that folder away to start over. To ask the model: opsterm ask "…"',
  },
};

const retired: CommandSpec[] = Object.entries(RETIRED).map(([word, r]) => ({
  name: word,
  description: r.why,
  hidden: true,
  usage: "[...rest]",
  options: r.options,
  action: () => {
    throw new UsageError(r.why, { code: "E_RETIRED_COMMAND", hint: r.hint });
  },
}));

export const migrateCommands: CommandSpec[] = [migrate, exportCmd, importCmd, ...retired];

export type { CommandContext };
