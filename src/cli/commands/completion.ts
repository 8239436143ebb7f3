import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { defineCommand } from "../../kernel/commands.ts";
import { UsageError } from "../../kernel/errors.ts";
import { atomicWrite, ensureDir } from "../../lib/atomic-write.ts";
import { generateCompletion, SHELLS, type Shell } from "../completions.ts";

/** Where each shell finds a completion script without any line in its rc file (zsh: once fpath has the folder). */
export function completionInstallPath(shell: Shell, env: Record<string, string | undefined>): string {
  const home = env.HOME ?? "";
  if (shell === "bash") return join(env.XDG_DATA_HOME || join(home, ".local/share"), "bash-completion/completions/opsterm");
  if (shell === "fish") return join(env.XDG_CONFIG_HOME || join(home, ".config"), "fish/completions/opsterm.fish");
  return join(env.ZDOTDIR || home, ".zfunc/_opsterm");
}

export const completionCommand = defineCommand({
  name: "completion",
  description: "Print the shell completion script for bash, zsh or fish; `completion install [shell]` puts it where the shell finds it",
  usage: "<shell> [which]",
  complete: [...SHELLS, "install"],
  examples: [
    "opsterm completion install              # for the shell in $SHELL",
    "opsterm completion install zsh",
    "opsterm completion bash > ~/.local/share/bash-completion/completions/opsterm",
    "opsterm completion fish > ~/.config/fish/completions/opsterm.fish",
  ],
  async action(args, ctx) {
    const first = String(args.shell);
    const pick = (name: string, from: string) => {
      if (!(SHELLS as readonly string[]).includes(name)) {
        throw new UsageError(`No completion for shell "${name}"${from}`, { code: "E_SHELL", hint: `Choose one of: ${SHELLS.join(", ")}` });
      }
      return name as Shell;
    };
    if (first !== "install") {
      const script = generateCompletion(pick(first, ""), ctx.registry);
      if (ctx.json) ctx.io.out(JSON.stringify({ shell: first, script }));
      else ctx.io.stdout.write(script);
      return 0;
    }
    const named = args.which;
    const fromEnv = (ctx.env.SHELL ?? "").split("/").pop() ?? "";
    const shell = named ? pick(named, "") : pick(fromEnv, fromEnv ? ` (from $SHELL)` : " ($SHELL is not set; name one)");
    const path = completionInstallPath(shell, ctx.env);
    ensureDir(dirname(path), 0o755);
    await atomicWrite(path, generateCompletion(shell, ctx.registry), { mode: 0o644 });
    const hint = activationHint(shell, path, ctx.env);
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ shell, path, ...(hint ? { hint } : {}) }));
      return 0;
    }
    ctx.io.out(`wrote ${path}`);
    ctx.io.out(hint ?? `${shell} loads it in new shells; open a new one to use it`);
    return 0;
  },
});

/** What the user still has to do, when the shell would not find the file on its own. */
function activationHint(shell: Shell, path: string, env: Record<string, string | undefined>): string | undefined {
  if (shell === "zsh") {
    const rc = join(env.ZDOTDIR || env.HOME || "", ".zshrc");
    const text = existsSync(rc) ? readFileSync(rc, "utf8") : "";
    if (!text.includes(".zfunc")) return `add to ${rc}, before compinit: fpath=(${dirname(path)} $fpath); autoload -U compinit && compinit`;
    return undefined;
  }
  if (shell === "bash" && !["/usr/share/bash-completion/bash_completion", "/etc/bash_completion"].some((f) => existsSync(f))) {
    return `the bash-completion package is not installed, so add to ~/.bashrc: source ${path}`;
  }
  return undefined;
}
