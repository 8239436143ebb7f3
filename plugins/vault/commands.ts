/**
 * `opsterm vault init|set|get|list|rm|rekey|import`. Values never come from argv (ps and shell
 * history would keep them): from stdin when it is piped, else typed without echo.
 */
import { DataError, defineCommand, UsageError, type CommandContext, type CommandSpec } from "../../src/kernel/index.ts";
import type { VaultStore } from "./session.ts";

const PASSWORD_FILE = { flags: "--password-file <file>", description: "Read the passphrase from this file (mode 0600, yours) when OPSTERM_VAULT_PASSWORD is not set" };
const LOG_N = { flags: "--log-n <n>", description: "scrypt work factor, 15..20 (default 17: ~0.3 s and 128 MiB to unlock)" };
/** A value is text; a certificate or a key fits easily. */
const MAX_VALUE_BYTES = 1024 * 1024;
/** The redactor leaves shorter values alone (masking every "abc" would wreck output and still reveal it). */
const SHORTEST_MASKED = 4;

function store(ctx: CommandContext): VaultStore {
  // The plugin provides its whole store as the service; the management calls are for its own commands.
  return ctx.use("vault") as VaultStore;
}

const unlockOptions = (args: Record<string, unknown>) => (args.passwordFile === undefined ? {} : { passwordFile: String(args.passwordFile) });

function logN(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 15 || n > 20) throw new UsageError(`--log-n must be a whole number from 15 to 20, got "${value}"`, { code: "E_VAULT_LOG_N" });
  return n;
}

const init = defineCommand({
  name: "vault init",
  groupDescription: "Encrypted secrets (vault.enc): ${vault:NAME} in exec, put --from-vault and API keys",
  description: "Create the vault (asks for the passphrase twice on a terminal)",
  options: [PASSWORD_FILE, LOG_N],
  examples: ["opsterm vault init", "OPSTERM_VAULT_PASSWORD=… opsterm vault init   (cron machines; see \"opsterm help vault\")"],
  async action(args, ctx) {
    const vault = store(ctx);
    const { source } = await vault.init({ ...unlockOptions(args), logN: logN(args.logN) });
    if (ctx.json) ctx.io.out(JSON.stringify({ path: vault.path, created: true }));
    else ctx.io.out(`Created ${vault.path} ${ctx.io.style.dim(`(passphrase from ${source})`)}`);
  },
});

const set = defineCommand({
  name: "vault set",
  description: "Add or replace a value: piped on stdin, else typed without echo (never on the command line)",
  usage: "<name> [...value]",
  options: [PASSWORD_FILE, { flags: "--note <text>", description: "A note shown by vault list (not secret)" }],
  examples: ["opsterm vault set db_password", "opsterm vault set tls_key < server.key", "pass show db | opsterm vault set db_password"],
  async action(args, ctx) {
    if ((args.value as string[] | undefined)?.length) {
      throw new UsageError("vault set never takes the value on the command line, where ps and your shell history would keep it", {
        code: "E_VAULT_VALUE_ARGV",
        hint: `Type it at the prompt: opsterm vault set ${args.name}   or pipe it: opsterm vault set ${args.name} < file`,
      });
    }
    const name = String(args.name);
    const vault = store(ctx);
    const options = unlockOptions(args);
    let value: string;
    if (ctx.io.isTTY.stdin) {
      await vault.list(options); // unlock first: a wrong passphrase must not cost the typed value
      const { readHidden } = await import("./hidden-input.ts");
      value = await readHidden(ctx.io.stdin, ctx.io.stderr, `Value for ${name}: `);
    } else {
      value = singleLine(await readStdin(ctx));
    }
    if (value === "") throw new DataError("E_VAULT_EMPTY", `No value for "${name}": stdin was empty`, { hint: "Pipe the value in, or run the command on a terminal to type it" });
    const note = args.note === undefined ? undefined : String(args.note);
    const { added } = await vault.set([{ name, value, note }], options);
    if (value.length < SHORTEST_MASKED) ctx.io.warn(`the value of "${name}" is shorter than ${SHORTEST_MASKED} characters: it is stored, but output and logs cannot mask it`);
    if (ctx.json) ctx.io.out(JSON.stringify({ name, added: added.length > 0 }));
    else ctx.io.out(`${added.length ? "Added" : "Updated"} ${name}`);
  },
});

/** A single line piped in loses its line ending (`echo secret | …`); multi-line content (a key file) is kept byte for byte. */
function singleLine(text: string): string {
  const stripped = text.replace(/\r?\n$/, "");
  return stripped.includes("\n") ? text : stripped;
}

async function readStdin(ctx: CommandContext): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.io.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_VALUE_BYTES) throw new DataError("E_VAULT_TOO_LARGE", "The value on stdin is larger than 1 MiB", { hint: "Keep large files elsewhere and only their key or password in the vault" });
    chunks.push(Buffer.from(chunk));
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new DataError("E_VAULT_BINARY", "The value on stdin is not UTF-8 text", { hint: "Store binary data base64-encoded: base64 -w0 file | opsterm vault set NAME" });
  }
}

const get = defineCommand({
  name: "vault get",
  description: "Print one value, for scripts: only into a pipe or a file (or with --reveal)",
  usage: "<name>",
  options: [PASSWORD_FILE, { flags: "--reveal", description: "Print it even though stdout is a terminal" }],
  examples: ["PGPASSWORD=$(opsterm vault get db_password) psql …", "opsterm vault get tls_key > /run/app/tls.key", "opsterm vault get db_password --reveal"],
  async action(args, ctx) {
    const tty = ctx.io.isTTY.stdout;
    if (tty && !args.reveal) {
      throw new UsageError("vault get prints a value only into a pipe or a file, not onto the terminal", { code: "E_VAULT_TTY", hint: `Add --reveal to show it here: opsterm vault get ${args.name} --reveal` });
    }
    const value = await store(ctx).get(String(args.name), unlockOptions(args));
    ctx.io.stdout.write(tty && !value.endsWith("\n") ? `${value}\n` : value);
  },
});

const list = defineCommand({
  name: "vault list",
  description: "Names with their times and notes, never values",
  options: [PASSWORD_FILE, { flags: "--json", description: "One JSON entry per line" }],
  examples: ["opsterm vault list", "opsterm vault list --json | jq -r '.[].name'"],
  async action(args, ctx) {
    const vault = store(ctx);
    if (!(await vault.exists())) {
      if (!ctx.json) ctx.io.out(`No vault yet (${vault.path}). Create it: opsterm vault init`);
      return;
    }
    const entries = await vault.list(unlockOptions(args));
    // JSON lines: one entry per line.
    if (ctx.json) return void entries.forEach((e) => ctx.io.out(JSON.stringify(e)));
    if (entries.length === 0) return void ctx.io.out('The vault is empty. Add a value: opsterm vault set NAME');
    const s = ctx.io.style;
    const width = Math.max(...entries.map((e) => e.name.length));
    for (const e of entries) ctx.io.out(`${s.bold(e.name.padEnd(width))}  ${s.dim(e.updated.replace("T", " ").slice(0, 19))}${e.note ? `  ${e.note}` : ""}`);
  },
});

const rm = defineCommand({
  name: "vault rm",
  description: "Remove a value",
  usage: "<name>",
  options: [PASSWORD_FILE],
  async action(args, ctx) {
    const name = String(args.name);
    await store(ctx).remove(name, unlockOptions(args));
    if (ctx.json) ctx.io.out(JSON.stringify({ name, removed: true }));
    else ctx.io.out(`Removed ${name}`);
  },
});

const rekey = defineCommand({
  name: "vault rekey",
  description: "Seal the vault under a new passphrase and a new salt (asks twice on a terminal)",
  options: [PASSWORD_FILE, { flags: "--new-password-file <file>", description: "Read the new passphrase from this file (mode 0600, yours)" }, LOG_N],
  examples: ["opsterm vault rekey", "opsterm vault rekey --log-n 18"],
  async action(args, ctx) {
    const r = await store(ctx).rekey({ ...unlockOptions(args), newPasswordFile: args.newPasswordFile === undefined ? undefined : String(args.newPasswordFile), logN: logN(args.logN) });
    if (ctx.json) ctx.io.out(JSON.stringify({ rekeyed: true, logN: r.logN }));
    else ctx.io.out(`Re-keyed the vault (new salt, scrypt logN ${r.logN})`);
  },
});

const importEnv = defineCommand({
  name: "vault import",
  description: "Add or replace values from KEY=VALUE lines (a .env file)",
  options: [{ flags: "--env-file <file>", description: "The file to read (required)" }, PASSWORD_FILE],
  examples: ["opsterm vault import --env-file .env.production && shred -u .env.production"],
  async action(args, ctx) {
    if (args.envFile === undefined) throw new UsageError("vault import needs --env-file FILE", { code: "E_USAGE", hint: "opsterm vault import --env-file .env" });
    const [{ readFile, stat }, { resolve }, { parseEnvFile }] = await Promise.all([import("node:fs/promises"), import("node:path"), import("./env-file.ts")]);
    const file = resolve(ctx.runtime.cwd(), String(args.envFile));
    const st = await stat(file);
    if (!st.isFile() || st.size > MAX_VALUE_BYTES * 16) throw new DataError("E_VAULT_ENV_FILE", `${file} is not a regular file of at most 16 MiB`);
    const lines = parseEnvFile(await readFile(file, "utf8"), file);
    if (lines.length === 0) throw new DataError("E_VAULT_ENV_FILE", `${file} has no KEY=VALUE lines; nothing was imported`);
    const r = await store(ctx).set(lines.map((l) => ({ name: l.name, value: l.value })), unlockOptions(args));
    if (ctx.json) ctx.io.out(JSON.stringify(r));
    else ctx.io.out(`Imported ${lines.length} value${lines.length === 1 ? "" : "s"} from ${file} (${r.added.length} added, ${r.updated.length} updated)`);
  },
});

export const vaultCommands: CommandSpec[] = [init, set, get, list, rm, rekey, importEnv];
