/**
 * The vault's promise, end to end on the built binary: a value used in `exec` reaches a real
 * sshd (the remote writes it to a file and hashes it), while its output on the terminal is masked
 * and audit.jsonl, history.db, last-conversation.json and the requests a local chat-completions
 * server receives hold zero bytes of it. `put --from-vault` writes a value whose snapshots keep
 * only its size, and `providers.x.apiKey: ${vault:NAME}` sends the key only as the key.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeAi, type FakeAi } from "../../helpers/fake-ai-server.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";
import { filesContaining, runBinary, tempHome } from "./helpers.ts";

let sshd: SshdHandle;
let ai: FakeAi;
let h: OpstermHome;
let env: Record<string, string>;
const remoteDir = tempHome("opsterm-vault-remote-");

// Shell syntax in the value proves the quoting on a real remote shell; the random core is what
// the leak checks look for (a partial leak would still show it).
const core = randomBytes(12).toString("hex");
const secret = `s3cr'et "$(id)" \`id\` $HOME \\ ${core}`;
const aiKey = `sk-vault-${randomBytes(16).toString("hex")}`;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

beforeAll(async () => {
  [sshd, ai] = await Promise.all([startSshd(), startFakeAi()]);
  h = writeOpstermHome({
    servers: { box: sshd.server() },
    knownHosts: [sshd.knownHostsLine()],
    config: { providers: { fake: { baseUrl: ai.baseUrl, model: "fake-model", apiKey: "${vault:ai_key}" } }, chat: { provider: "fake" } },
  });
  env = { ...h.env, OPSTERM_VAULT_PASSWORD: "correct horse battery staple" };
  expect((await runBinary(["vault", "init", "--log-n", "15"], env)).code).toBe(0);
  expect((await runBinary(["vault", "set", "db_password"], env, { input: secret })).code).toBe(0);
  expect((await runBinary(["vault", "set", "ai_key"], env, { input: `${aiKey}\n` })).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), ai?.close()]);
  h?.cleanup();
});

/** Files of the home that must never hold a value: everything but the sealed vault itself. */
const leaks = (needle: string) => filesContaining(h.home, needle, (p) => p.endsWith("vault.enc") || p.includes(`${join("audit", "snapshots")}/`));

describe("exec with ${vault:NAME} on a real sshd", () => {
  it("the remote gets the value (hash and bytes match), the terminal sees it masked", async () => {
    const saw = join(remoteDir, "saw");
    const r = await runBinary(["exec", "box", "--yes", "--", `printf %s \${vault:db_password} > ${saw}; printf %s \${vault:db_password} | sha256sum; echo "said: \${vault:db_password}"`], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(saw, "utf8")).toBe(secret);
    expect(r.stdout).toContain(sha(secret));
    expect(r.stdout).toContain("said: [REDACTED:vault]");
    expect(r.stdout).not.toContain(core);
  });

  it("--json output carries the masked text too", async () => {
    const r = await runBinary(["exec", "box", "--yes", "--json", "--", "echo ${vault:db_password}"], env);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim());
    expect(line.stdout).toBe("[REDACTED:vault]\n");
    expect(r.stdout).not.toContain(core);
  });

  it("an unknown name fails before anything runs: no audit record, nothing on the server", async () => {
    const auditLog = join(h.home, "audit", "audit.jsonl");
    const before = existsSync(auditLog) ? readFileSync(auditLog, "utf8") : "";
    const marker = join(remoteDir, "never");
    const r = await runBinary(["exec", "box", "--yes", "--", `touch ${marker}; echo \${vault:db_pasword}`], env);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/"db_pasword" is not in the vault; did you mean "db_password"\?/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(auditLog) ? readFileSync(auditLog, "utf8") : "").toBe(before);
  });

  it("the audit log and history record the placeholder, not the value", async () => {
    const audit = readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8");
    expect(audit).toContain("${vault:db_password}");
    const compact = await runBinary(["history", "compact"], env);
    expect(compact.code).toBe(0);
    const history = await runBinary(["history", "--json", "vault"], env);
    expect(history.stdout).toContain("${vault:db_password}");
    expect(history.stdout).not.toContain(core);
  });
});

describe("put --from-vault", () => {
  it("writes the value to the remote file; audit and snapshots keep its size, never its bytes or hash", async () => {
    const target = join(remoteDir, "db.pass");
    const r = await runBinary(["put", "box", target, "--from-vault", "db_password", "--mode", "0600", "--yes", "--json"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(target, "utf8")).toBe(secret);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(r.stdout).not.toContain(sha(secret));
    expect(readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8")).not.toContain(sha(secret));
    const snapshots = execFileSync("git", ["-C", join(h.home, "audit", "snapshots"), "log", "-p", "--all"], { encoding: "utf8" });
    expect(snapshots).toContain("secret content (put --from-vault) not stored in the snapshot");
    expect(snapshots).not.toContain(core);
    expect(snapshots).not.toContain(sha(secret));
  });
});

describe("a model never sees a vault value", () => {
  it("the API key comes from the vault; piped text holding a vault value is redacted before it is sent", async () => {
    ai.reset();
    ai.enqueue(ai.stream(["That is a password."]));
    const r = await runBinary(["what is this line?"], env, { input: `DB=${secret}\n` });
    expect(r.code).toBe(0);
    const [request] = ai.chats();
    expect(request.headers.authorization).toBe(`Bearer ${aiKey}`);
    expect(request.raw).not.toContain(core);
    expect(request.raw).not.toContain(aiKey);
    expect(request.raw).toContain("[REDACTED:");
  });

  it("no file opsterm wrote holds a byte of either value: audit.jsonl, history.db, last-conversation.json", async () => {
    expect((await runBinary(["history", "compact"], env)).code).toBe(0);
    for (const f of ["audit/audit.jsonl", "history.db", "chat/last-conversation.json"]) expect(existsSync(join(h.home, f)), f).toBe(true);
    expect(leaks(core)).toEqual([]);
    expect(leaks(aiKey)).toEqual([]);
    expect(leaks(secret)).toEqual([]);
    for (const req of ai.requests) expect(req.raw).not.toContain(core);
  });
});
