/**
 * `opsterm ssh`: the argv handed to the system ssh (recorded by a fake `ssh` first on PATH), exit
 * codes passed through, session start/end in the audit log, unsafe values refused before anything
 * is spawned, and one real login through the system ssh to a real sshd.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnTty } from "../../helpers/pty.ts";
import { runOpsterm, startSshd, writeOpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let sshd: SshdHandle;
let fakeBin: string;

beforeAll(async () => {
  sshd = await startSshd();
  fakeBin = mkdtempSync(join(tmpdir(), "opsterm-fake-ssh-"));
  // Records its argv (one per line) next to itself and exits with $FAKE_SSH_EXIT.
  writeFileSync(join(fakeBin, "ssh"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "$FAKE_SSH_ARGV"\nexit "\${FAKE_SSH_EXIT:-0}"\n`);
  chmodSync(join(fakeBin, "ssh"), 0o755);
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(fakeBin, { recursive: true, force: true });
});

function withFakeSsh(servers: Record<string, Record<string, unknown>>, exit = 0) {
  const h = writeOpstermHome({ servers });
  const argvFile = join(h.home, "ssh-argv");
  const env = { ...h.env, PATH: `${fakeBin}:${h.env.PATH}`, FAKE_SSH_ARGV: argvFile, FAKE_SSH_EXIT: String(exit) };
  return { h, env, argv: () => (existsSync(argvFile) ? readFileSync(argvFile, "utf8").split("\n").slice(0, -1) : undefined) };
}

function auditRecords(home: string): Record<string, unknown>[] {
  const path = join(home, "audit", "audit.jsonl");
  return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : [];
}

const SERVERS = {
  bastion: { host: "203.0.113.7", user: "ops", key: "~/.ssh/id_ed25519" },
  inner: { host: "10.0.0.2", user: "ops", port: 2200, proxy: "bastion" },
  web1: { host: "10.0.0.5", user: "ubuntu", port: 2222, key: "/keys/web1", proxy: ["bastion", "inner"] },
};

describe("opsterm ssh (argv of the system ssh)", () => {
  it("passes -p, -i, the -J chain and -- before user@host as separate argv elements, and the exit code back", async () => {
    const { h, env, argv } = withFakeSsh(SERVERS, 7);
    try {
      const r = await runOpsterm(["ssh", "web1", "--yes"], env);
      expect(r.code).toBe(7);
      expect(argv()).toEqual(["-p", "2222", "-i", "/keys/web1", "-o", `UserKnownHostsFile=${h.knownHostsPath}`, "-J", "ops@203.0.113.7:22,ops@10.0.0.2:2200", "--", "ubuntu@10.0.0.5"]);
      expect(argv()!.join(" ")).not.toMatch(/StrictHostKeyChecking/i);
      // Start and end of the session are in the audit log, the end with ssh's exit code.
      const records = auditRecords(h.home).filter((x) => x.server === "web1");
      expect(records.map((x) => x.action)).toEqual(["session-start", "session-end"]);
      expect(records[1]).toMatchObject({ exitCode: 7, args: { via: ["bastion", "inner"] } });
      const verify = await runOpsterm(["audit", "verify"], env);
      expect(verify.code).toBe(0);
    } finally {
      h.cleanup();
    }
  });

  it("--via replaces the inventory chain; a direct server gets no -J", async () => {
    const { h, env, argv } = withFakeSsh(SERVERS);
    try {
      expect((await runOpsterm(["ssh", "web1", "--via", "inner", "--yes"], env)).code).toBe(0);
      expect(argv()).toContain("ops@10.0.0.2:2200");
      expect(argv()![argv()!.indexOf("-J") + 1]).toBe("ops@10.0.0.2:2200");
      expect((await runOpsterm(["ssh", "bastion", "--yes"], env)).code).toBe(0);
      expect(argv()).not.toContain("-J");
      expect(argv()!.slice(-2)).toEqual(["--", "ops@203.0.113.7"]);
      const unknown = await runOpsterm(["ssh", "web1", "--via", "nope", "--yes"], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/Unknown jump host "nope"/);
    } finally {
      h.cleanup();
    }
  });

  it.each([
    { name: "a host starting with -", servers: { evil: { host: "-oProxyCommand=touch /tmp/x" } }, id: "evil", error: /invalid host/ },
    { name: "a user with a control character", servers: { evil: { host: "10.0.0.1", user: "root\u0007" } }, id: "evil", error: /invalid user/ },
    { name: "a jump host whose user starts with -", servers: { j: { host: "10.0.0.1", user: "-oX" }, evil: { host: "10.0.0.2", proxy: "j" } }, id: "evil", error: /invalid user/ },
  ])("refuses $name before spawning anything", async ({ servers, id, error }) => {
    const { h, env, argv } = withFakeSsh(servers as Record<string, Record<string, unknown>>);
    try {
      const r = await runOpsterm(["ssh", id], env);
      expect(r.code).toBe(78);
      expect(r.stderr).toMatch(error);
      expect(argv()).toBeUndefined();
      expect(auditRecords(h.home)).toEqual([]);
    } finally {
      h.cleanup();
    }
  });

  it("at a terminal opens without a question (you type every command); a prod tier's `session: ask` asks", async () => {
    const { h, env, argv } = withFakeSsh({ ...SERVERS, db: { host: "10.0.0.9", user: "ops", tier: "prod" } });
    try {
      const open = await runOnTty(["ssh", "bastion"], env);
      expect(open.code).toBe(0);
      expect(open.output).not.toMatch(/approve|\[y\/N\]/i);
      expect(argv()!.slice(-2)).toEqual(["--", "ops@203.0.113.7"]);
      expect(auditRecords(h.home).find((x) => x.action === "session-start")).toMatchObject({ decision: "auto-allow", rule: "policy.session-terminal" });

      writeFileSync(join(h.home, "policy.yaml"), "tiers:\n  prod:\n    session: ask\n");
      const asked = await runOnTty(["ssh", "db"], env, [{ when: /\[y\/N\]/i, send: "n" }]);
      expect(asked.code).toBe(77);
      expect(argv()!.at(-1)).toBe("ops@203.0.113.7");
    } finally {
      h.cleanup();
    }
  });

  it("asks for approval: with no TTY and no --yes the session is denied (exit 77) and ssh never runs", async () => {
    const { h, env, argv } = withFakeSsh(SERVERS);
    try {
      const r = await runOpsterm(["ssh", "bastion"], env);
      expect(r.code).toBe(77);
      expect(r.stderr).toMatch(/approval/i);
      expect(argv()).toBeUndefined();
    } finally {
      h.cleanup();
    }
  });

  it("refuses a glob or tag that names several servers instead of picking one", async () => {
    const { h, env, argv } = withFakeSsh(SERVERS);
    try {
      const r = await runOpsterm(["ssh", "*", "--yes"], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/"\*" matches 3 servers \(bastion, inner, web1\); ssh needs exactly one/);
      expect(argv()).toBeUndefined();
      // A glob that names exactly one is fine.
      expect((await runOpsterm(["ssh", "web?", "--yes"], env)).code).toBe(0);
      expect(argv()!.at(-1)).toBe("ubuntu@10.0.0.5");
    } finally {
      h.cleanup();
    }
  });

  it("refuses a server argument with control characters (exit 2) and spawns nothing", async () => {
    const { h, env, argv } = withFakeSsh(SERVERS);
    try {
      const r = await runOpsterm(["ssh", "web1\u001b[2J"], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Refusing server/);
      expect(argv()).toBeUndefined();
    } finally {
      h.cleanup();
    }
  });

  it("does not open a session that cannot be recorded (audit unwritable: exit 74)", async () => {
    const { h, env, argv } = withFakeSsh(SERVERS);
    try {
      writeFileSync(join(h.home, "audit"), "a file where the audit directory should be");
      const r = await runOpsterm(["ssh", "bastion", "--yes"], env);
      expect(r.code).toBe(74);
      expect(argv()).toBeUndefined();
    } finally {
      h.cleanup();
    }
  });
});

describe("opsterm ssh (real system ssh)", () => {
  it("logs in through the system ssh, verifying the host key from OPSTERM_KNOWN_HOSTS, and passes the exit code", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    const scratch = mkdtempSync(join(tmpdir(), "opsterm-session-"));
    mkdirSync(join(scratch, "d"));
    try {
      // No TTY: ssh runs the remote login shell on our stdin.
      const r = await runOpsterm(["ssh", "box", "--yes"], h.env, { input: `echo hello-from-session; touch ${join(scratch, "d", "marker")}; exit 5\n` });
      expect(r.stdout).toContain("hello-from-session");
      expect(r.code).toBe(5);
      expect(existsSync(join(scratch, "d", "marker"))).toBe(true);
      expect(auditRecords(h.home).map((x) => [x.action, x.exitCode ?? null])).toEqual([
        ["session-start", null],
        ["session-end", 5],
      ]);

      // A wrong known_hosts entry: the system ssh refuses (255) and nothing runs.
      const other = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [`[127.0.0.1]:${sshd.port} ${readFileSync(`${sshd.userKeyPath}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ")}`] });
      try {
        const refused = await runOpsterm(["ssh", "box", "--yes"], other.env, { input: `touch ${join(scratch, "d", "refused")}\n` });
        expect(refused.code).toBe(255);
        expect(refused.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
        expect(existsSync(join(scratch, "d", "refused"))).toBe(false);
      } finally {
        other.cleanup();
      }
    } finally {
      h.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
