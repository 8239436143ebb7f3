/**
 * The shell plugin: `opsterm init bash|zsh|fish` prints hooks that record the last command line,
 * exit status, cwd and duration (pure shell, no process per prompt); `opsterm last` shows it with
 * its output (tmux pane or the opt-in capture wrapper); `opsterm explain-last` asks the AI about
 * it. Provides the "shell" service, whose saveSuggestion() feeds the insert key binding.
 */
import { join } from "node:path";
import { definePlugin } from "../../src/kernel/index.ts";
import { shellCommands } from "./commands.ts";
import { DEFAULT_INSERT_KEY } from "./scripts.ts";
import { readLastCommand, shellDir } from "./state.ts";
import type { ShellService } from "./types.ts";

export default definePlugin({
  name: "shell",
  apiVersion: 1,
  description: "Shell integration: init, last, explain-last, suggested-command key binding",
  commands: shellCommands,
  setup(ctx) {
    const dir = shellDir(ctx.paths.dataDir);
    const suggestionPath = join(dir, "suggestion");
    // The key `opsterm init` binds by default; the shell's own binding is not known here.
    const key = ctx.env.OPSTERM_INSERT_KEY || DEFAULT_INSERT_KEY;
    const service: ShellService = {
      lastCommand: () => readLastCommand(dir, ctx.env.OPSTERM_SHELL_SESSION),
      async saveSuggestion(command) {
        // The binding puts it one Enter away from running: never a command the policy rejects,
        // whoever proposes it (chat, explain-last, a user plugin).
        const { verdict } = await ctx.actions.preview({ kind: "local", target: "local", command, origin: "ai" });
        if (verdict.decision === "reject") return false;
        const { atomicWrite } = await import("../../src/lib/atomic-write.ts");
        // One trailing newline at most; the key bindings insert the text without it.
        await atomicWrite(suggestionPath, `${command.replace(/\n+$/, "")}\n`, { mode: 0o600, dirMode: 0o700 });
        return true;
      },
      suggestionPath,
      insertHint: `press ${key === DEFAULT_INSERT_KEY ? "Alt-o" : key} at your prompt to insert it`,
    };
    ctx.provide("shell", service);
  },
});
