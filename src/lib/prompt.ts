/**
 * Questions asked on the terminal. With no TTY nothing is asked: the caller gets a DeniedError
 * (approval) or the default, never a hang.
 */
import { createInterface } from "node:readline";
import { DeniedError, InterruptedError } from "../kernel/errors.ts";

export interface Prompter {
  /** True when a person can answer (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /** Yes/no; with no TTY throws DeniedError naming `what`. */
  confirm(message: string, options?: { default?: boolean; what?: string }): Promise<boolean>;
  /** Pick one of `choices` by its first letter or number; default is the first marked default. */
  select<T extends string>(message: string, choices: { value: T; label: string }[], defaultValue: T): Promise<T>;
  /** Free text; returns the default (or "") with no TTY. */
  text(message: string, options?: { default?: string }): Promise<string>;
}

/**
 * `stdin` may be a function, so the stream is only built when a question is asked. When stdin is
 * not a terminal (data is piped in) but stderr is, questions are read from the controlling
 * terminal (`openTty`), as sudo does; without one nothing is asked.
 */
export function createPrompter(stdin: NodeJS.ReadStream | (() => NodeJS.ReadStream), stderr: NodeJS.WriteStream, openTty?: () => NodeJS.ReadStream | undefined): Prompter {
  let source: NodeJS.ReadStream | undefined;
  let fromTty = false;
  const input = () => {
    if (source) return source;
    const s = typeof stdin === "function" ? stdin() : stdin;
    const tty = s.isTTY || !stderr.isTTY ? undefined : openTty?.();
    fromTty = tty !== undefined;
    source = tty ?? s;
    return source;
  };
  let isInteractive: boolean | undefined;
  const interactive = () => (isInteractive ??= Boolean(stderr.isTTY && input().isTTY));

  async function ask(question: string): Promise<string> {
    const from = input();
    // The controlling terminal is opened unreferenced; a question must keep the process alive.
    if (fromTty) (from as { ref?: () => void }).ref?.();
    const rl = createInterface({ input: from, output: stderr, terminal: true });
    try {
      return await new Promise<string>((resolve, reject) => {
        rl.on("SIGINT", () => reject(new InterruptedError()));
        rl.on("close", () => reject(new InterruptedError("Input closed")));
        rl.question(question, (answer) => resolve(answer.trim()));
      });
    } finally {
      rl.removeAllListeners("close");
      rl.close();
      if (fromTty) (from as { unref?: () => void }).unref?.();
    }
  }

  return {
    get interactive() {
      return interactive();
    },
    async confirm(message, options = {}) {
      if (!interactive()) {
        throw new DeniedError("E_NO_TTY", `${options.what ?? "This"} needs approval, and there is no terminal to ask on`, {
          hint: "Run it from a terminal, or pass --yes to approve it in advance",
        });
      }
      const def = options.default ?? false;
      const answer = (await ask(`${message} ${def ? "[Y/n]" : "[y/N]"} `)).toLowerCase();
      if (answer === "") return def;
      return answer === "y" || answer === "yes";
    },
    async select(message, choices, defaultValue) {
      if (!interactive()) return defaultValue;
      const menu = choices.map((c, i) => `  ${i + 1}) ${c.label}${c.value === defaultValue ? " (default)" : ""}`).join("\n");
      const answer = (await ask(`${message}\n${menu}\n> `)).toLowerCase();
      if (answer === "") return defaultValue;
      const byNumber = choices[Number(answer) - 1];
      const byLetter = choices.find((c) => c.label.toLowerCase().startsWith(answer));
      return (byNumber ?? byLetter)?.value ?? defaultValue;
    },
    async text(message, options = {}) {
      if (!interactive()) return options.default ?? "";
      const answer = await ask(`${message}${options.default ? ` [${options.default}]` : ""} `);
      return answer || options.default || "";
    },
  };
}
