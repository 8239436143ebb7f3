import { defineCommand } from "../../kernel/commands.ts";
import { UsageError } from "../../kernel/errors.ts";
import { generateCompletion, SHELLS, type Shell } from "../completions.ts";

export const completionCommand = defineCommand({
  name: "completion",
  description: "Print the shell completion script for bash, zsh or fish",
  usage: "<shell>",
  complete: [...SHELLS],
  examples: [
    "opsterm completion bash > ~/.local/share/bash-completion/completions/opsterm",
    "opsterm completion zsh > ~/.zfunc/_opsterm      # with fpath+=(~/.zfunc) before compinit",
    "opsterm completion fish > ~/.config/fish/completions/opsterm.fish",
  ],
  action(args, ctx) {
    const shell = String(args.shell);
    if (!(SHELLS as readonly string[]).includes(shell)) {
      throw new UsageError(`No completion for shell "${shell}"`, { code: "E_SHELL", hint: `Choose one of: ${SHELLS.join(", ")}` });
    }
    ctx.io.stdout.write(generateCompletion(shell as Shell, ctx.registry));
  },
});
