/**
 * Where the passphrase comes from, in this order: OPSTERM_VAULT_PASSWORD, `--password-file`
 * (0600 and ours), `vault.passwordCommand` from the global config (argv, no shell), a hidden
 * prompt on the terminal. With none of them and no terminal: exit 77, one line.
 */
import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readSync, constants } from "node:fs";
import process from "node:process";
import { ConfigError, DeniedError, type PluginContext } from "../../src/kernel/index.ts";
import { readHidden } from "./hidden-input.ts";

export interface Passphrase {
  value: string;
  /** Where it came from, for messages: never the passphrase itself. */
  source: string;
}

type Ctx = Pick<PluginContext, "env" | "io" | "config">;

const MAX_PASSWORD_FILE = 64 * 1024;

/**
 * The passphrase that opens the vault (or, for `vault init`, the one it will be sealed with:
 * `confirm` then asks twice when it is typed).
 */
export async function currentPassphrase(ctx: Ctx, passwordFile?: string, confirm = false): Promise<Passphrase> {
  const fromEnv = ctx.env.OPSTERM_VAULT_PASSWORD;
  if (fromEnv) return { value: fromEnv, source: "OPSTERM_VAULT_PASSWORD" };
  if (passwordFile) return { value: readPasswordFile(passwordFile), source: `--password-file ${passwordFile}` };
  const command = await passwordCommand(ctx);
  if (command) return { value: await runPasswordCommand(command, ctx.env), source: `vault.passwordCommand (${command[0]})` };
  if (!interactive(ctx)) {
    throw new DeniedError("E_VAULT_LOCKED", "The vault is locked and there is no terminal to ask for its passphrase: set OPSTERM_VAULT_PASSWORD, pass --password-file, or set vault.passwordCommand");
  }
  return { value: await typed(ctx, confirm ? "New vault passphrase: " : "Vault passphrase: ", confirm), source: "the terminal" };
}

/** The new passphrase of `vault rekey`: from `--new-password-file`, else typed twice. */
export async function newPassphrase(ctx: Ctx, file?: string): Promise<Passphrase> {
  if (file) return { value: readPasswordFile(file), source: `--new-password-file ${file}` };
  if (!interactive(ctx)) {
    throw new DeniedError("E_VAULT_LOCKED", "A new vault passphrase is needed and there is no terminal to type it on: pass --new-password-file");
  }
  return { value: await typed(ctx, "New vault passphrase: ", true), source: "the terminal" };
}

async function typed(ctx: Ctx, question: string, confirm: boolean): Promise<string> {
  const first = nonEmpty(await readHidden(ctx.io.stdin, ctx.io.stderr, question));
  if (confirm && (await readHidden(ctx.io.stdin, ctx.io.stderr, "Repeat it: ")) !== first) {
    throw new DeniedError("E_VAULT_MISMATCH", "The two passphrases differ; nothing was changed");
  }
  return first;
}

function interactive(ctx: Ctx): boolean {
  return ctx.io.isTTY.stdin && ctx.io.isTTY.stderr;
}

function nonEmpty(passphrase: string): string {
  if (passphrase === "") throw new DeniedError("E_VAULT_EMPTY_PASSPHRASE", "An empty passphrase opens nothing");
  return passphrase;
}

/** The first line of a file that only this user can read (like ssh with a private key). */
export function readPasswordFile(path: string): string {
  let fd: number | undefined;
  try {
    // O_NONBLOCK: a FIFO must not hang us; it is refused below as not a regular file.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile()) throw badFile(path, "is not a regular file");
    if ((st.mode & 0o077) !== 0) throw badFile(path, `is readable by others (mode 0${(st.mode & 0o777).toString(8)})`, `chmod 600 ${path}`);
    if (uid !== undefined && st.uid !== uid) throw badFile(path, "belongs to another user", `It must be your own file, mode 0600`);
    if (st.size > MAX_PASSWORD_FILE) throw badFile(path, "is larger than 64 KiB");
    const buf = Buffer.alloc(st.size);
    const n = st.size === 0 ? 0 : readSync(fd, buf, 0, st.size, 0);
    return nonEmpty(buf.subarray(0, n).toString("utf8").split(/\r?\n/)[0]);
  } catch (error) {
    if (error instanceof DeniedError) throw error;
    throw badFile(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function badFile(path: string, why: string, hint?: string): DeniedError {
  return new DeniedError("E_VAULT_PASSWORD_FILE", `The password file ${path} ${why}; the vault stays locked`, hint ? { hint } : {});
}

/** vault.passwordCommand (a globalOnly key: the config loader drops a workspace's value). */
async function passwordCommand(ctx: Ctx): Promise<string[] | undefined> {
  const value = (await ctx.config()).get("vault.passwordCommand");
  if (value === undefined) return undefined;
  const argv = Array.isArray(value) ? value.map(String) : [];
  if (argv.length === 0 || argv[0] === "") throw new ConfigError("E_VAULT_COMMAND", "vault.passwordCommand is empty", { hint: 'Give an argv list, e.g. ["pass", "show", "opsterm"]' });
  return argv;
}

/** Runs the command (no shell), its stdin closed and its stderr on ours; the first line of stdout is the passphrase. */
function runPasswordCommand(argv: string[], env: Record<string, string | undefined>): Promise<string> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new DeniedError("E_VAULT_PASSWORD_COMMAND", `vault.passwordCommand (${file}) ${why}; the vault stays locked`, { hint: `Run "${argv.join(" ")}" yourself to check that it prints the passphrase` }));
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "inherit"], env: env as NodeJS.ProcessEnv, timeout: 120_000 });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_PASSWORD_FILE) chunks.push(c);
    });
    child.on("error", (error: NodeJS.ErrnoException) => fail(error.code === "ENOENT" ? "was not found" : `could not start (${error.code ?? error.message})`));
    child.on("close", (code, signal) => {
      const line = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0];
      if (code !== 0) return fail(signal ? `was killed by ${signal}` : `exited with ${code}`);
      if (!line) return fail("printed nothing");
      resolve(line);
    });
  });
}
