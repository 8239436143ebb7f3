/**
 * The vault commands on the built binary, as a script or a cron job meets them: no terminal,
 * the passphrase from the environment, a file or a command; values never from argv; the exit
 * codes of DESIGN.md §7 (77 wrong passphrase or no way to unlock, 65 damaged, 2 usage).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { requireBuilt } from "../../helpers/binary.ts";
import { runBinary, tempHome } from "./helpers.ts";

/** JSON lines → objects (the --json rule: one record per line). */
const jsonLines = (text: string) => text.split("\n").filter(Boolean).map((l) => JSON.parse(l));


const PASS = "correct horse battery staple";

function home(): { dir: string; env: Record<string, string> } {
  const dir = tempHome();
  return { dir, env: { OPSTERM_HOME: dir, HOME: dir, OPSTERM_VAULT_PASSWORD: PASS } };
}

async function initialised(): Promise<{ dir: string; env: Record<string, string> }> {
  const h = home();
  const r = await runBinary(["vault", "init", "--log-n", "15"], h.env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return h;
}

beforeAll(() => {
  requireBuilt();
});

describe("vault init|set|get|list|rm", () => {
  it("stores values from stdin and gives them back exactly, into a pipe", async () => {
    const { env } = await initialised();
    expect((await runBinary(["vault", "set", "db_password", "--note", "prod db"], env, { input: "hunter2-but-longer\n" })).stdout).toBe("Added db_password\n");
    const pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    expect((await runBinary(["vault", "set", "tls.key"], env, { input: pem })).code).toBe(0);
    expect((await runBinary(["vault", "set", "db_password"], env, { input: "rotated-value" })).stdout).toBe("Updated db_password\n");
    // One line piped in loses its newline; a multi-line value keeps every byte.
    expect((await runBinary(["vault", "get", "db_password"], env)).stdout).toBe("rotated-value");
    expect((await runBinary(["vault", "get", "tls.key"], env)).stdout).toBe(pem);
    const list = await runBinary(["vault", "list", "--json"], env);
    const entries = jsonLines(list.stdout) as { name: string; note?: string; created: string; updated: string }[];
    expect(entries.map((e) => e.name)).toEqual(["db_password", "tls.key"]);
    expect(entries[0].note).toBe("prod db");
    expect(list.stdout).not.toContain("rotated-value");
    expect((await runBinary(["vault", "rm", "tls.key"], env)).code).toBe(0);
    expect(jsonLines((await runBinary(["vault", "list", "--json"], env)).stdout)).toHaveLength(1);
    const gone = await runBinary(["vault", "get", "tls.key"], env);
    expect(gone.code).toBe(78);
    expect(gone.stderr).toMatch(/"tls.key" is not in the vault/);
  }, 60_000);

  it("refuses a value on the command line, without repeating it", async () => {
    const { env } = await initialised();
    const r = await runBinary(["vault", "set", "db_password", "Sup3r-S3cret-Value"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/never takes the value on the command line/);
    expect(r.stdout + r.stderr).not.toContain("Sup3r-S3cret-Value");
    expect((await runBinary(["vault", "list", "--json"], env)).stdout).toBe("");
  });

  it("refuses an empty value and a name that is not a vault name", async () => {
    const { env } = await initialised();
    expect((await runBinary(["vault", "set", "x"], env, { input: "" })).code).toBe(65);
    const bad = await runBinary(["vault", "set", "a/b"], env, { input: "value" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a vault name/);
  });

  it("init refuses to replace an existing vault; list without a vault says how to make one", async () => {
    const { env } = await initialised();
    const again = await runBinary(["vault", "init"], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    const empty = home();
    expect((await runBinary(["vault", "list", "--json"], empty.env)).stdout).toBe("");
    const get = await runBinary(["vault", "get", "x"], empty.env);
    expect(get.code).toBe(78);
    expect(get.stderr).toMatch(/opsterm vault init/);
  });

  it("import --env-file adds and replaces values; a bad line names its number, never its text", async () => {
    const { dir, env } = await initialised();
    await runBinary(["vault", "set", "B"], env, { input: "old" });
    writeFileSync(join(dir, ".env"), "# comment\nexport A=alpha-value\nB='it''s'\nB=\"two\\nlines\"\nC=plain value # trailing comment\n\n");
    const r = await runBinary(["vault", "import", "--env-file", ".env"], env);
    expect(r.stdout).toMatch(/Imported 3 values .*\(2 added, 1 updated\)/);
    expect((await runBinary(["vault", "get", "B"], env)).stdout).toBe("two\nlines");
    expect((await runBinary(["vault", "get", "C"], env)).stdout).toBe("plain value");
    writeFileSync(join(dir, "bad.env"), "OK=1\nthis line holds TopSecretText and no equals sign\n");
    const bad = await runBinary(["vault", "import", "--env-file", "bad.env"], env);
    expect(bad.code).toBe(65);
    expect(bad.stderr).toMatch(/bad\.env:2: expected KEY=VALUE/);
    expect(bad.stderr).not.toContain("TopSecretText");
  });

  it("rekey: new passphrase and salt, the same values; the old passphrase no longer opens it", async () => {
    const { dir, env } = await initialised();
    await runBinary(["vault", "set", "k"], env, { input: "kept-value" });
    const before = readFileSync(join(dir, "vault.enc"), "utf8").split("\n")[0];
    writeFileSync(join(dir, "new.pass"), "a brand new passphrase\n", { mode: 0o600 });
    const r = await runBinary(["vault", "rekey", "--new-password-file", join(dir, "new.pass")], env);
    expect(r.stdout).toMatch(/Re-keyed the vault \(new salt, scrypt logN 15\)/);
    expect(JSON.parse(readFileSync(join(dir, "vault.enc"), "utf8").split("\n")[0]).kdf.salt).not.toBe(JSON.parse(before).kdf.salt);
    expect((await runBinary(["vault", "get", "k"], env)).code).toBe(77);
    expect((await runBinary(["vault", "get", "k"], { ...env, OPSTERM_VAULT_PASSWORD: "a brand new passphrase" })).stdout).toBe("kept-value");
  }, 60_000);
});

describe("unlocking", () => {
  it("a wrong passphrase: exit 77, one line, nothing about why", async () => {
    const { env } = await initialised();
    const r = await runBinary(["vault", "list"], { ...env, OPSTERM_VAULT_PASSWORD: "nope" });
    expect(r.code).toBe(77);
    expect(r.stderr).toBe("error Wrong vault passphrase (from OPSTERM_VAULT_PASSWORD) (E_VAULT_PASSPHRASE)\n");
  });

  it("no passphrase source and no terminal: exit 77 with one line, never a hang", async () => {
    const { env } = await initialised();
    const { OPSTERM_VAULT_PASSWORD: _, ...locked } = env;
    const started = Date.now();
    const r = await runBinary(["vault", "get", "x"], locked);
    expect(r.code).toBe(77);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/no terminal to ask for its passphrase: set OPSTERM_VAULT_PASSWORD, pass --password-file, or set vault.passwordCommand/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("--password-file must be 0600 and a regular file", async () => {
    const { dir, env } = await initialised();
    const { OPSTERM_VAULT_PASSWORD: _, ...locked } = env;
    await runBinary(["vault", "set", "k"], env, { input: "file-opened" });
    const file = join(dir, "pass");
    writeFileSync(file, `${PASS}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const open = await runBinary(["vault", "get", "k", "--password-file", file], locked);
    expect(open.code).toBe(77);
    expect(open.stderr).toMatch(/readable by others \(mode 0644\)/);
    chmodSync(file, 0o600);
    expect((await runBinary(["vault", "get", "k", "--password-file", file], locked)).stdout).toBe("file-opened");
    const dirAsFile = await runBinary(["vault", "get", "k", "--password-file", dir], locked);
    expect(dirAsFile.code).toBe(77);
  });

  it("vault.passwordCommand runs without a shell from the global config; a trusted workspace's is ignored, never run", async () => {
    const { dir, env } = await initialised();
    const { OPSTERM_VAULT_PASSWORD: _, ...locked } = env;
    await runBinary(["vault", "set", "k"], env, { input: "cmd-opened" });
    // printf's own argv: a shell would have expanded $HOME; the passphrase has none.
    writeFileSync(join(dir, "config.yaml"), `vault:\n  passwordCommand: [printf, "%s\\n", "${PASS}"]\n`);
    expect((await runBinary(["vault", "get", "k"], locked)).stdout).toBe("cmd-opened");
    const project = join(dir, "project");
    const marker = join(dir, "workspace-command-ran");
    mkdirSync(join(project, ".opsterm"), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "config.yaml"), "");
    writeFileSync(join(project, ".opsterm", "config.yaml"), `vault:\n  passwordCommand: [touch, "${marker}"]\n`, { mode: 0o600 });
    expect((await runBinary(["workspace", "trust"], locked, { cwd: project })).code).toBe(0);
    const ws = await runBinary(["vault", "get", "k"], locked, { cwd: project });
    expect(ws.code).toBe(77);
    expect(ws.stderr).toMatch(/no terminal to ask for its passphrase/);
    expect(existsSync(marker)).toBe(false);
    writeFileSync(join(dir, "config.yaml"), "vault:\n  passwordCommand: [\"false\"]\n");
    const failing = await runBinary(["vault", "get", "k"], locked);
    expect(failing.code).toBe(77);
    expect(failing.stderr).toMatch(/vault.passwordCommand \(false\) exited with 1/);
  });
});

describe("vault.enc on disk", () => {
  it("is 0600 in a 0700 directory whatever the umask, and no temp file is left", async () => {
    const parent = tempHome();
    const dir = join(parent, "deep", "home");
    const env = { OPSTERM_HOME: dir, HOME: parent, OPSTERM_VAULT_PASSWORD: PASS };
    const umask0 = (args: string[], input = "") => spawnSync("sh", ["-c", 'umask 000; exec "$@"', "sh", requireBuilt(), ...args], { env: { PATH: process.env.PATH, ...env }, input, encoding: "utf8" });
    expect(umask0(["vault", "init", "--log-n", "15"]).status).toBe(0);
    expect(umask0(["vault", "set", "k"], "value-under-umask-0").status).toBe(0);
    expect(statSync(join(dir, "vault.enc")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(parent, "deep")).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).filter((f) => f.startsWith("vault.enc."))).toEqual([]);
  });

  it("a damaged file is refused with 65 and nothing decrypted; a FIFO in its place does not hang", async () => {
    const { dir, env } = await initialised();
    await runBinary(["vault", "set", "k"], env, { input: "value-1234" });
    const path = join(dir, "vault.enc");
    const bytes = readFileSync(path);
    for (const at of [10, Math.floor(bytes.length / 2), bytes.length - 5]) {
      const flipped = Buffer.from(bytes);
      flipped[at] ^= 0x04;
      writeFileSync(path, flipped);
      const r = await runBinary(["vault", "get", "k"], env);
      expect(r.code, `byte ${at}`).toBe(65);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/is damaged: its checksum does not match; nothing was decrypted/);
    }
    writeFileSync(path, bytes);
    expect((await runBinary(["vault", "get", "k"], env)).stdout).toBe("value-1234");
    renameSync(path, `${path}.real`);
    execFileSync("mkfifo", ["-m", "600", path]);
    const fifo = await runBinary(["vault", "get", "k"], env);
    expect(fifo.code).toBe(65);
    expect(fifo.stderr).toMatch(/is not a regular file/);
  });
});
