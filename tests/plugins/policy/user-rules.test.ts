/**
 * policy.yaml: allow / ask / deny prefixes, per tier and server; deny wins; no rule lifts a hard
 * reject or a composed command; an invalid file denies everything with file:line:col.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPolicyService } from "../../../plugins/policy/service.ts";

async function policyWith(global: string | undefined, workspace?: string) {
  const dir = mkdtempSync(join(tmpdir(), "policy-rules-"));
  const files = [join(dir, "policy.yaml"), join(dir, "ws", ".opsterm", "policy.yaml")];
  if (global !== undefined) writeFileSync(files[0], global);
  if (workspace !== undefined) {
    mkdirSync(join(dir, "ws", ".opsterm"), { recursive: true });
    writeFileSync(files[1], workspace);
  }
  const service = createPolicyService(files);
  await service.load();
  return { service, files };
}

const RULES = `
deny:
  - rm -rf
  - [systemctl, stop]
ask:
  - cat /var/log/secure
allow:
  - git status
  - docker ps
  - cat
tiers:
  prod:
    deny:
      - systemctl restart
    ask:
      - uptime
servers:
  db-1:
    allow:
      - psql -c
session: ask
`;

describe("user rules", () => {
  it("a cached verdict is reused only under the same applicable rules: servers and tiers keep their own", async () => {
    const { service } = await policyWith(RULES);
    // The same line on many hosts (a fan-out, a workflow): tier and server rules still decide per host.
    for (let i = 0; i < 3; i++) {
      expect(service.classify("uptime", { server: "web1" })).toMatchObject({ decision: "auto-allow" });
      expect(service.classify("uptime", { server: "db-9", tier: "prod" })).toMatchObject({ decision: "approval-required", rule: expect.stringMatching(/^user\.tiers\.prod\.ask/) });
      expect(service.classify("psql -c 'select 1'", { server: "db-1" })).toMatchObject({ decision: "auto-allow" });
      expect(service.classify("psql -c 'select 1'", { server: "db-2" }).decision).toBe("approval-required");
      expect(service.classify("systemctl restart app", { tier: "prod" }).decision).toBe("reject");
      expect(service.classify("systemctl restart app", { tier: "staging" }).decision).toBe("approval-required");
    }
    // Callers get their own copy: changing one does not change the next.
    const v = service.classify("uptime");
    v.decision = "reject";
    expect(service.classify("uptime").decision).toBe("auto-allow");
  });

  it("classify() applies deny to any command in the line, through wrappers", async () => {
    const { service } = await policyWith(RULES);
    for (const c of ["rm -rf /tmp/x", "sudo rm -rf /tmp/x", "ls; rm -rf build", "bash -c 'rm -rf build'", "/bin/rm -rf x", "systemctl stop nginx"]) {
      const v = service.classify(c);
      expect({ c, d: v.decision, r: v.rule.startsWith("user.deny") }).toEqual({ c, d: "reject", r: true });
    }
    expect(service.classify("rm -rf build").reason).toMatch(/policy\.yaml:3:5/);
  });

  it("classify() lets allow lift approval for single plain commands only", async () => {
    const { service } = await policyWith(RULES);
    expect(service.classify("git status")).toMatchObject({ decision: "auto-allow", rule: "user.allow[0]" });
    expect(service.classify("git status --short")).toMatchObject({ decision: "auto-allow" });
    expect(service.classify("docker ps -a")).toMatchObject({ decision: "auto-allow", rule: "user.allow[1]" });
    expect(service.classify("git statusx").decision).toBe("approval-required");
    expect(service.classify("git status; ls").decision).toBe("approval-required");
    expect(service.classify("git status | cat").decision).toBe("approval-required");
    expect(service.classify("git status 2>/dev/null").decision).toBe("approval-required");
    expect(service.classify("sudo git status").decision).toBe("approval-required");
    expect(service.classify("/usr/bin/git status").decision).toBe("approval-required");
    expect(service.classify("git status $(id)").decision).toBe("approval-required");
  });

  it("classify() keeps secrets behind approval even when a broad allow matches", async () => {
    const { service } = await policyWith(RULES);
    expect(service.classify("cat /etc/shadow").decision).toBe("approval-required");
    expect(service.classify("cat .env").decision).toBe("approval-required");
  });

  it("classify() never lifts a hard reject", async () => {
    const { service } = await policyWith("allow:\n  - rm\n  - dd\n  - bash\n");
    expect(service.classify("rm -rf /").decision).toBe("reject");
    expect(service.classify("dd if=/dev/zero of=/dev/sda").decision).toBe("reject");
    expect(service.classify("bash -c 'rm -rf /'").decision).toBe("reject");
    expect(service.classify("rm -rf build")).toMatchObject({ decision: "auto-allow", rule: "user.allow[0]" });
  });

  it("classify() lets ask override the built-in allow-list", async () => {
    const { service } = await policyWith(RULES);
    expect(service.classify("cat /var/log/secure")).toMatchObject({ decision: "approval-required", rule: "user.ask[0]" });
  });

  it("classify() applies tier and server scopes only to their targets", async () => {
    const { service } = await policyWith(RULES);
    expect(service.classify("uptime").decision).toBe("auto-allow");
    expect(service.classify("uptime", { tier: "prod" })).toMatchObject({ decision: "approval-required", rule: "user.tiers.prod.ask[0]" });
    expect(service.classify("systemctl restart nginx", { tier: "prod" })).toMatchObject({ decision: "reject", rule: "user.tiers.prod.deny[0]" });
    expect(service.classify("systemctl restart nginx", { tier: "staging" }).decision).toBe("approval-required");
    expect(service.classify("psql -c 'select 1'", { server: "db-1" })).toMatchObject({ decision: "auto-allow", rule: "user.servers.db-1.allow[0]" });
    expect(service.classify("psql -c 'select 1'", { server: "db-2" }).decision).toBe("approval-required");
  });

  it("deny and ask match with options in between, and through variables and stdin-fed shells", async () => {
    const { service } = await policyWith(RULES);
    for (const c of ["systemctl --no-pager stop nginx", "systemctl -q stop nginx", "sudo systemctl --user stop x", "echo 'systemctl stop x' | sh", "S=stop; systemctl $S nginx"]) {
      expect({ c, d: service.classify(c).decision }).toEqual({ c, d: "reject" });
    }
    // allow stays an exact prefix: options in between do not widen it.
    expect(service.classify("git --no-pager status").decision).toBe("approval-required");
    expect(service.classify("cat /var/log/syslog /var/log/secure")).toMatchObject({ decision: "approval-required", rule: "user.ask[0]" });
  });

  it("no allow lifts a hard reject in any disguise", async () => {
    const { service } = await policyWith("allow:\n  - rm\n  - sudo\n  - find\n  - curl\n  - sh\n  - xargs\n");
    for (const c of ["sudo rm -rf /", "cd / && rm -rf *", "find / -delete", "curl x | sh", "echo / | xargs rm -rf", "X=/; rm -rf $X"]) {
      expect({ c, d: service.classify(c).decision }).toEqual({ c, d: "reject" });
    }
  });

  it("deny wins over allow, also across the global and workspace files", async () => {
    const { service } = await policyWith("allow:\n  - docker ps\n", "deny:\n  - docker\n");
    expect(service.classify("docker ps").decision).toBe("reject");
  });

  it("an invalid file denies everything and names file:line:col", async () => {
    const { service, files } = await policyWith("deny:\n  - rm -rf\nallwo:\n  - ls\n");
    const v = service.classify("ls");
    expect(v.decision).toBe("reject");
    expect(v.rule).toBe("user.invalid-rules");
    expect(v.reason).toContain(`${files[0]}:3:1`);
    expect(v.reason).toContain('did you mean "allow"');
  });

  it.each([
    ["deny: [ 'rm -rf' \n", "invalid YAML"],
    ["deny: rm\n", "expected a list"],
    ["deny:\n  - 'ls; rm'\n", "not a plain command prefix"],
    ["tiers:\n  prod:\n    alow: [ls]\n", "unknown key"],
    ["session: maybe\n", "must be one of"],
  ])("invalid rules %j are rejected with a clear error", async (text, message) => {
    const { service } = await policyWith(text);
    const v = service.classify("uptime");
    expect(v.decision).toBe("reject");
    expect(v.reason).toContain(message);
    expect(v.reason).toMatch(/policy\.yaml:\d+:\d+/);
  });

  it("decide() answers every action kind", async () => {
    const { service } = await policyWith(RULES);
    const base = { server: "web-1", origin: "user" as const, actor: "alice (user)", runId: "r", target: { id: "web-1" } };
    expect(await service.decide({ ...base, kind: "exec", command: "uptime" })).toMatchObject({ decision: "auto-allow" });
    expect(await service.decide({ ...base, kind: "write", command: "write", path: "/etc/x" })).toMatchObject({ decision: "approval-required", rule: "policy.file-write" });
    expect(await service.decide({ ...base, kind: "list", command: "list", path: "/root/.ssh" })).toMatchObject({ decision: "auto-allow", rule: "policy.file-metadata" });
    expect(await service.decide({ ...base, kind: "read", command: "read", path: "/var/log/syslog" })).toMatchObject({ decision: "auto-allow" });
    expect(await service.decide({ ...base, kind: "read", command: "read", path: "/etc/shadow" })).toMatchObject({ decision: "approval-required" });
    expect(await service.decide({ ...base, kind: "session", command: "ssh" })).toMatchObject({ decision: "approval-required", rule: "user.session" });
    const open = await policyWith("servers:\n  web-1:\n    session: allow\n");
    expect(await open.service.decide({ ...base, kind: "session", command: "ssh" })).toMatchObject({ decision: "auto-allow" });
    expect(await open.service.decide({ ...base, server: "web-2", kind: "session", command: "ssh" })).toMatchObject({ decision: "approval-required", rule: "policy.session" });
  });

  it("decide() rejects every action kind while the rules are invalid", async () => {
    const { service } = await policyWith("deny: rm\n");
    const base = { server: "web-1", origin: "user" as const, actor: "alice (user)", runId: "r", target: { id: "web-1" } };
    for (const kind of ["exec", "local", "read", "write", "list", "stat", "find", "session"] as const) {
      expect(await service.decide({ ...base, kind, command: "uptime", path: "/var/log/syslog" }), kind).toMatchObject({ decision: "reject", rule: "user.invalid-rules" });
    }
  });

  it("a session without rules: auto-allow for a person at a terminal, approval when stdin is not one or a model asks; rules still win", async () => {
    const session = { server: "web-2", actor: "alice", runId: "r", kind: "session" as const, command: "ssh", target: { id: "web-2" } };
    const none = await policyWith("");
    expect(await none.service.decide({ ...session, origin: "user", interactive: true })).toMatchObject({ decision: "auto-allow", rule: "policy.session-terminal" });
    expect(await none.service.decide({ ...session, origin: "user", interactive: false })).toMatchObject({ decision: "approval-required", rule: "policy.session" });
    expect(await none.service.decide({ ...session, origin: "ai", interactive: true })).toMatchObject({ decision: "approval-required", rule: "policy.session" });
    const strict = await policyWith("tiers:\n  prod:\n    session: ask\nservers:\n  web-3:\n    session: deny\n");
    expect(await strict.service.decide({ ...session, tier: "prod", origin: "user", interactive: true })).toMatchObject({ decision: "approval-required", rule: "user.tiers.prod.session" });
    expect(await strict.service.decide({ ...session, server: "web-3", origin: "user", interactive: true })).toMatchObject({ decision: "reject" });
  });

  it("classify() throws before load(), so callers fail closed", () => {
    const service = createPolicyService([]);
    expect(() => service.classify("ls")).toThrow(/before it was loaded/);
  });
});
