/**
 * A user plugin added with `plugin add` cannot reach around the gate (issue "one gate"), on the
 * built binary against a real sshd: it cannot obtain a connection, register or call an executor,
 * or find the old raw services; what it can do — ctx.actions.run() — is classified and audited.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opstermAsync, tempDir } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../helpers/sshd.ts";

const SOURCE = `// a self-contained ES module that tries every way around the gate
const tries = [];
const attempt = async (what, fn) => {
  try {
    const value = await fn();
    tries.push({ what, ok: true, value: value === undefined ? null : typeof value });
  } catch (error) {
    tries.push({ what, ok: false, code: error.code ?? String(error) });
  }
};
export default {
  name: "sneaky",
  apiVersion: 1,
  async setup(ctx) {
    await attempt("registerExecutor", () => ctx.registerExecutor({ kind: "exec", resolve: async () => ({ id: "x" }), execute: async () => ({ exitCode: 0, completed: true }) }));
  },
  commands: [
    {
      name: "sneak",
      description: "Tries to act on a server without the gate",
      usage: "<marker>",
      async action(args, ctx) {
        await attempt("use ssh.connections", () => ctx.use("ssh.connections"));
        await attempt("tryUse ssh.connections", () => ctx.tryUse("ssh.connections"));
        await attempt("use remote", () => ctx.use("remote"));
        await attempt("use files", () => ctx.use("files"));
        await attempt("inventory has no connect", () => {
          const inv = ctx.use("inventory");
          if (typeof inv.connect === "function" || typeof inv.exec === "function") throw Object.assign(new Error("raw access"), { code: "RAW" });
          throw Object.assign(new Error("no raw access"), { code: "NONE" });
        });
        await attempt("executors reachable", () => {
          if (ctx.actions.executors || ctx.actions.register) throw Object.assign(new Error("exposed"), { code: "EXPOSED" });
          throw Object.assign(new Error("hidden"), { code: "HIDDEN" });
        });
        // The one way: through the gate (approval needed for touch; no terminal, no --yes → refused).
        const refused = await ctx.actions.run({ kind: "exec", target: "web1", command: "touch " + args.marker, origin: "plugin" });
        const allowed = await ctx.actions.run({ kind: "exec", target: "web1", command: "uname -n", origin: "plugin" });
        ctx.io.out(JSON.stringify({ tries, refused: refused.error?.code ?? null, allowed: { exitCode: allowed.exitCode, auditSeq: allowed.auditSeq ?? null } }));
      },
    },
  ],
};
`;

let sshd: SshdHandle;
let h: OpstermHome;

beforeAll(async () => {
  sshd = await startSshd();
  h = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  h?.cleanup();
});

describe("a user plugin and the gate", () => {
  it("gets no connection and no executor; its actions go through policy, approval and audit", async () => {
    const dir = tempDir("opsterm-sneaky-");
    const path = join(dir, "sneaky.mjs");
    writeFileSync(path, SOURCE);
    const marker = join(dir, "touched");
    const opts = { home: h.home, env: h.env, cwd: dir };
    const added = await opstermAsync(["plugin", "add", path], opts);
    expect(added.code, added.stderr).toBe(0);
    const r = await opstermAsync(["sneak", marker], opts);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { tries: { what: string; ok: boolean; code?: string }[]; refused: string; allowed: { exitCode: number; auditSeq: number } };
    const byWhat = Object.fromEntries(out.tries.map((t) => [t.what, t]));
    expect(byWhat["registerExecutor"]).toMatchObject({ ok: false, code: "E_EXECUTOR_PRIVATE" });
    expect(byWhat["use ssh.connections"]).toMatchObject({ ok: false, code: "E_SERVICE_PRIVATE" });
    expect(byWhat["tryUse ssh.connections"]).toMatchObject({ ok: false, code: "E_SERVICE_PRIVATE" });
    expect(byWhat["use remote"]).toMatchObject({ ok: false, code: "E_SERVICE_MISSING" });
    expect(byWhat["use files"]).toMatchObject({ ok: false, code: "E_SERVICE_MISSING" });
    expect(byWhat["inventory has no connect"]).toMatchObject({ ok: false, code: "NONE" });
    expect(byWhat["executors reachable"]).toMatchObject({ ok: false, code: "HIDDEN" });
    expect(out.refused).toBe("E_APPROVAL_DENIED");
    expect(existsSync(marker)).toBe(false);
    expect(out.allowed.exitCode).toBe(0);
    // Both are in the audit log, with the plugin as their origin.
    const records = readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { seq: number; actor: string; phase: string; args: { command: string } });
    expect(records.filter((x) => x.args.command.startsWith("touch")).map((x) => x.phase)).toEqual(["event"]);
    expect(records.filter((x) => x.args.command === "uname -n").map((x) => x.phase)).toEqual(["intent", "result"]);
    expect(records.find((x) => x.seq === out.allowed.auditSeq)?.actor).toMatch(/\(plugin\)$/);
  });
});
