/**
 * The vault plugin in the gate (ctx.actions.run), with a real vault.enc: policy, approval and
 * audit see `${vault:NAME}`; the executor alone gets the value, shell-quoted; the output comes
 * back masked; an unknown name stops the action before the policy is asked.
 */
import { describe, expect, it } from "vitest";
import { definePlugin, type AuditInput, type Executor, type Verdict } from "../../../src/kernel/index.ts";
import { exitCodeFor } from "../../../src/kernel/actions.ts";
import vaultPlugin from "../../../plugins/vault/index.ts";
import { createVaultStore } from "../../../plugins/vault/session.ts";
import { createTestKernel } from "../../helpers/test-kernel.ts";
import { tempHome } from "./helpers.ts";

const VALUE = "it's-$(secret)";

async function world() {
  const home = tempHome();
  const env = { OPSTERM_VAULT_PASSWORD: "pw" };
  const store = createVaultStore({ env, io: {} as never, config: async () => ({ values: {}, sources: [], origins: [], ignored: [], get: () => undefined, scopeOf: () => undefined }), paths: { configDir: home, dataDir: home, home } });
  await store.init({ logN: 15 });
  await store.set([{ name: "db_password", value: VALUE }]);
  const classified: string[] = [];
  const records: AuditInput[] = [];
  const ran: string[] = [];
  const ask: Verdict = { decision: "approval-required", rule: "default", reason: "not on the allow-list" };
  const policy = definePlugin({ name: "policy", apiVersion: 1, enforce: "pre", hooks: { beforeAction: (a) => (classified.push(a.command), ask) } });
  const audit = definePlugin({
    name: "audit",
    apiVersion: 1,
    enforce: "pre",
    setup: (ctx) => ctx.provide("audit", { append: async (input: AuditInput) => (records.push(structuredClone(input)), { seq: records.length }) } as never),
  });
  const executor: Executor = {
    kind: "exec",
    resolve: async (request) => ({ id: request.target, host: "10.0.0.1", port: 22, scope: "global" }),
    async execute(run) {
      ran.push(run.command);
      await run.io.onStdout?.(Buffer.from(`echo: ${VALUE.slice(0, 5)}`));
      await run.io.onStdout?.(Buffer.from(`${VALUE.slice(5)}\n`));
      return { exitCode: 0, completed: true, stdout: `password is ${VALUE}\n` };
    },
  };
  const transport = definePlugin({ name: "transport", apiVersion: 1, setup: (ctx) => ctx.registerExecutor(executor) });
  const { ctx } = await createTestKernel([policy, audit, vaultPlugin, transport], { home, env });
  return { ctx, classified, records, ran };
}

describe("${vault:NAME} through the gate", () => {
  it("policy and audit see the placeholder; the executor alone gets the quoted value; streamed and captured output are masked", async () => {
    const w = await world();
    const streamed: string[] = [];
    const r = await w.ctx.actions.run({ kind: "exec", target: "web1", command: "psql -W ${vault:db_password}" }, { preApproved: true, io: { onStdout: (c) => void streamed.push(c.toString()) } });
    expect(r.error).toBeUndefined();
    expect(w.ran).toEqual([`psql -W 'it'\\''s-$(secret)'`]);
    expect(w.classified).toEqual(["psql -W ${vault:db_password}"]);
    expect(w.records.map((x) => x.args.command)).toEqual(["psql -W ${vault:db_password}", "psql -W ${vault:db_password}"]);
    expect(r.stdout).toBe("password is [REDACTED:vault]\n");
    expect(streamed.join("")).toBe("echo: [REDACTED:vault]\n");
    expect(JSON.stringify(w.records)).not.toContain("secret)");
  }, 60_000);

  it("an unknown name stops the action before the policy is asked: nothing recorded, nothing run (78)", async () => {
    const w = await world();
    const r = await w.ctx.actions.run({ kind: "exec", target: "web1", command: "echo ${vault:db_pasword}" }, { preApproved: true });
    expect(r.error).toMatchObject({ code: "E_VAULT_UNKNOWN", message: expect.stringMatching(/did you mean "db_password"/) });
    expect(exitCodeFor(r)).toBe(78);
    expect(w.classified).toEqual([]);
    expect(w.records).toEqual([]);
    expect(w.ran).toEqual([]);
  }, 60_000);

  it("a line without references runs as it is and never unlocks the vault", async () => {
    const w = await world();
    const r = await w.ctx.actions.run({ kind: "exec", target: "web1", command: "echo $HOME" }, { preApproved: true });
    expect(w.ran).toEqual(["echo $HOME"]);
    expect(r.stdout).toBe(`password is ${VALUE}\n`);
  }, 60_000);
});

describe("${vault:NAME} in a local command", () => {
  it("is refused before anything is classified: the value would stand in bash's argv (2)", async () => {
    const home = tempHome();
    const local: Executor = { kind: "local", resolve: async () => ({ id: "local", scope: "local" }), execute: async () => ({ exitCode: 0, completed: true }) };
    const ran: string[] = [];
    const transport = definePlugin({ name: "local-test", apiVersion: 1, setup: (ctx) => ctx.registerExecutor({ ...local, execute: async (run) => (ran.push(run.command), { exitCode: 0, completed: true }) }) });
    const policy = definePlugin({ name: "policy", apiVersion: 1, enforce: "pre", hooks: { beforeAction: () => ({ decision: "auto-allow", rule: "t", reason: "t" }) } });
    const { ctx } = await createTestKernel([policy, vaultPlugin, transport], { home });
    const r = await ctx.actions.run({ kind: "local", target: "local", command: "mysql -p${vault:db}" }, { preApproved: true });
    expect(r.error).toMatchObject({ code: "E_VAULT_LOCAL" });
    expect(exitCodeFor(r)).toBe(2);
    expect(ran).toEqual([]);
  });
});
