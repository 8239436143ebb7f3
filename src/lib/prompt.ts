/**
 * Questions asked on the terminal, drawn by consola's prompts (loaded with a dynamic import only
 * when a question is actually asked, so start-up does not pay for it). With no TTY nothing is
 * asked: the caller gets a DeniedError (approval) or the default, never a hang.
 */
import { DeniedError, InterruptedError } from "../kernel/errors.ts";

export interface Prompter {
  /** True when a person can answer (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /** Yes/no; with no TTY throws DeniedError naming `what`. */
  confirm(message: string, options?: { default?: boolean; what?: string }): Promise<boolean>;
  /** Pick one of `choices`: arrow keys then Enter (Enter alone keeps the default), or a choice's number or first letter. */
  select<T extends string>(message: string, choices: { value: T; label: string }[], defaultValue: T): Promise<T>;
  /** Free text, pre-filled with the default (editable); returns the default (or "") with no TTY. */
  text(message: string, options?: { default?: string }): Promise<string>;
}

/**
 * `stdin` may be a function, so the stream is only built when a question is asked. When stdin is
 * not a terminal (data is piped in) but stderr is, questions are read from the controlling
 * terminal (`openTty`), as sudo does; without one nothing is asked. Questions are drawn on
 * stderr, so stdout stays the command's output.
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

  async function ask<T>(question: PromptQuestion): Promise<T> {
    const from = input();
    // The controlling terminal is opened unreferenced; a question must keep the process alive.
    if (fromTty) (from as { ref?: () => void }).ref?.();
    try {
      return (await askWithConsola(from, stderr, question)) as T;
    } finally {
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
      return ask<boolean>({ type: "confirm", message: `${message} ${def ? "[Y/n]" : "[y/N]"}`, initial: def });
    },
    async select(message, choices, defaultValue) {
      if (!interactive()) return defaultValue;
      const options = choices.map((c) => ({ value: c.value, label: c.label, hint: c.value === defaultValue ? "default" : undefined }));
      return ask({ type: "select", message, options, initial: defaultValue });
    },
    async text(message, options = {}) {
      if (!interactive()) return options.default ?? "";
      const answer = await ask<string | undefined>({ type: "text", message, initial: options.default });
      return (answer ?? "").trim() || options.default || "";
    },
  };
}

type PromptQuestion =
  | { type: "confirm"; message: string; initial: boolean }
  | { type: "select"; message: string; options: { value: string; label: string; hint?: string }[]; initial: string }
  | { type: "text"; message: string; initial?: string };

/**
 * consola draws its prompts on `process.stdout` and reads `process.stdin` (it takes no streams).
 * For the length of one question both are pointed at the prompter's streams — the controlling
 * terminal when stdin is the data, stderr for the drawing — and put back afterwards.
 */
async function askWithConsola(input: NodeJS.ReadStream, output: NodeJS.WriteStream, question: PromptQuestion): Promise<unknown> {
  const { consola } = await import("consola");
  const restore = redirectProcessStreams(input, output);
  let detach = () => {};
  try {
    const { message, ...rest } = question;
    const asked = consola.prompt(message, { ...rest, cancel: "reject" } as Parameters<typeof consola.prompt>[1]);
    // The prompt has subscribed to the keys by now: a select also takes a choice's number or first letter.
    if (question.type === "select") detach = selectShortcuts(input, question.options, question.initial);
    return await asked;
  } catch (error) {
    if ((error as Error)?.name === "ConsolaPromptCancelledError") throw new InterruptedError();
    throw error;
  } finally {
    detach();
    restore();
  }
}

/**
 * consola's select moves with the arrow keys (and h/j/k/l) and takes Enter. As the hand-written
 * prompt did, a choice's number (1, 2 …) or the first letter of its label picks it at once: this
 * follows the cursor and, on such a key, moves it there and presses Enter.
 */
function selectShortcuts(input: NodeJS.ReadStream, options: { value: string; label: string }[], initial: string): () => void {
  const n = options.length;
  let cursor = Math.max(0, options.findIndex((o) => o.value === initial));
  const vim: Record<string, number> = { k: -1, h: -1, j: 1, l: 1 };
  const arrows: Record<string, number> = { up: -1, left: -1, down: 1, right: 1 };
  const firstLetters = options.map((o) => o.label.trim()[0]?.toLowerCase() ?? "");
  let done = false;
  const onKey = (text: string | undefined, key: { name?: string; ctrl?: boolean; meta?: boolean } | undefined) => {
    if (done || key?.ctrl || key?.meta) return;
    const step = (key?.name && arrows[key.name]) || (text && vim[text]);
    if (step) {
      cursor = (cursor + step + n) % n;
      return;
    }
    if (!text || text.length !== 1) return;
    const digit = /^[1-9]$/.test(text) ? Number(text) - 1 : -1;
    const letter = firstLetters.indexOf(text.toLowerCase());
    const unique = letter >= 0 && firstLetters.lastIndexOf(text.toLowerCase()) === letter;
    const target = digit >= 0 && digit < n ? digit : unique ? letter : -1;
    if (target < 0) return;
    done = true;
    while (cursor !== target) {
      cursor = (cursor + 1) % n;
      input.emit("keypress", undefined, { name: "down", sequence: "\x1b[B" });
    }
    input.emit("keypress", "\r", { name: "return", sequence: "\r" });
  };
  input.on("keypress", onKey);
  return () => input.off("keypress", onKey);
}

/** Points process.stdin/stdout (and the built-in ESM bindings of node:process) at other streams. */
function redirectProcessStreams(input: NodeJS.ReadStream, output: NodeJS.WriteStream): () => void {
  const proc = globalThis.process as unknown as Record<string, unknown>;
  const saved = { stdin: Object.getOwnPropertyDescriptor(proc, "stdin"), stdout: Object.getOwnPropertyDescriptor(proc, "stdout") };
  const tty = getBuiltin<{ WriteStream: unknown }>("node:tty");
  const savedWriteStream = tty?.WriteStream;
  Object.defineProperty(proc, "stdin", { configurable: true, enumerable: true, get: () => input });
  // A terminal that reports no size (a pty under `script`, some serial consoles) would make the
  // prompt wrap after every character: 80 columns then.
  const drawOn = new Proxy(output, {
    get: (target, key) => {
      if (key === "columns") return target.columns || 80;
      if (key === "rows") return target.rows || 24;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  Object.defineProperty(proc, "stdout", { configurable: true, enumerable: true, get: () => drawOn });
  // The prompt feeds its keystrokes into `new tty.WriteStream(0)`, a sink for its line editor
  // that fails when fd 0 is a file (`opsterm exec … < dump.sql`): a terminal-like sink instead.
  if (tty) tty.WriteStream = KeystrokeSink(output, savedWriteStream as new (fd: number) => NodeJS.WriteStream);
  sync();
  return () => {
    for (const key of ["stdin", "stdout"] as const) if (saved[key]) Object.defineProperty(proc, key, saved[key]!);
    if (tty) tty.WriteStream = savedWriteStream;
    sync();
  };
}

function KeystrokeSink(output: NodeJS.WriteStream, Original: new (fd: number) => NodeJS.WriteStream): unknown {
  const stream = getBuiltin<typeof import("node:stream")>("node:stream")!;
  return function WriteStream(this: unknown, fd: number) {
    if (fd !== 0) return new Original(fd);
    const sink = new stream.Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as Record<string, unknown>;
    sink.isTTY = true;
    sink.columns = output.columns || 80;
    sink.rows = output.rows || 24;
    sink.getWindowSize = () => [output.columns || 80, output.rows || 24];
    return sink;
  };
}

function sync(): void {
  getBuiltin<{ syncBuiltinESMExports?: () => void }>("node:module")?.syncBuiltinESMExports?.();
}

function getBuiltin<T>(id: string): T | undefined {
  const get = (globalThis.process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return get?.(id) as T | undefined;
}
