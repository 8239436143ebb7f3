/**
 * Issue 10: each bypass class with the real command lines from the issue, the attack corpus (no
 * line auto-allowed), the everyday corpus (≥ 85% auto-allowed), user rules over the normalised
 * argv, egress from config, recursive scp get, and `--explain`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classify } from "../../../plugins/policy/engine.ts";
import { POLICY_CONFIG } from "../../../plugins/policy/config.ts";
import { normalisePath } from "../../../plugins/policy/paths.ts";
import { createPolicyService } from "../../../plugins/policy/service.ts";
import { egressAllowed, inCidr, normalArgv } from "../../../plugins/policy/tools.ts";
import { EMPTY_RULES } from "../../../plugins/policy/user-rules.ts";

const rows = (file: string): string[] =>
  readFileSync(join(import.meta.dirname, "corpus", file), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => JSON.parse(l) as string);
const judge = (c: string, egress: string[] = []) => classify(c, {}, EMPTY_RULES, { egress });
const expectRule = (c: string, rule: string) => expect({ c, ...pick(judge(c)) }).toEqual({ c, decision: "approval-required", rule });
const pick = (v: { decision: string; rule: string }) => ({ decision: v.decision, rule: v.rule });

describe("the issue's confirmed lines", () => {
  it.each([
    ['grep -d rec -H "" /etc', "approval.recursive-read"],
    ["diff -N /home/alice /empty", "approval.recursive-read"],
    ["cat //proc/self/environ", "approval.sensitive-path"],
    ["journalctl -n --vacuum-time=1s", "approval.option"],
    ["date --iso-8601 --set=2001-01-01", "approval.option"],
    ["ip link s lo down", "approval.ambiguous"],
  ])("%s needs approval (%s)", (c, rule) => expectRule(c, rule));
});

describe("1. optional arguments are taken only when attached (or when the tool itself peeks)", () => {
  it("refused options after an optional-argument option are still seen", () => {
    for (const c of ["journalctl --lines --vacuum-size=1", "journalctl -b --rotate", "journalctl --case-sensitive --vacuum-time=1s", "date -I --set=2001-01-01", "diff --context -r /etc /tmp", "ls --color -Z /root", "lsof -i -r", "lsof -g -r"]) {
      expect({ c, d: judge(c).decision }).toEqual({ c, d: "approval-required" });
    }
  });
  it("attached values and the values journalctl peeks at are read as values", () => {
    for (const c of ["journalctl -n 50 --no-pager", "journalctl -n50", "journalctl --lines=20", "journalctl -b -1", "journalctl -b 0 -p err", "journalctl --case-sensitive=no -g x", "date --iso-8601=seconds", "date -Iseconds", "date --rfc-3339=ns", "diff --context=3 /tmp/a /tmp/b", "ls --color=auto /tmp", "lsof -i :22", "lsof -iTCP -sTCP:LISTEN -nP"]) {
      expect({ c, d: judge(c).decision }).toEqual({ c, d: "auto-allow" });
    }
  });
});

describe("2. abbreviations as each tool reads them", () => {
  it("unique GNU prefixes and prefix-matched values resolve; ambiguous ones need approval", () => {
    expect(judge("ls --human /tmp").decision).toBe("auto-allow");
    expect(judge("du --max=1 /var").decision).toBe("auto-allow");
    expect(judge("grep --directories=recu x /etc")).toMatchObject({ decision: "approval-required", rule: "approval.recursive-read" });
    expect(judge("grep -d rec x /var/log")).toMatchObject({ decision: "auto-allow" });
    expect(judge("grep -d s x /etc/hosts")).toMatchObject({ decision: "auto-allow" });
    expect(judge("date --se=2001-01-01")).toMatchObject({ decision: "approval-required", rule: "approval.option" });
    expect(judge("journalctl --vac=1s")).toMatchObject({ decision: "approval-required", rule: "approval.ambiguous" });
    expect(judge("ls --c /tmp")).toMatchObject({ decision: "approval-required", rule: "approval.ambiguous" });
  });
  it("iproute2 objects and verbs by prefix: show is allowed, set/delete/flush are not", () => {
    for (const c of ["ip a", "ip a s", "ip r", "ip r s", "ip l sh", "ip n", "ip ru", "ip -br a", "ip -s -s link", "ip route get 1.1.1.1"]) expect({ c, d: judge(c).decision }).toEqual({ c, d: "auto-allow" });
    for (const c of ["ip l s lo down", "ip link se lo up", "ip a d 1.2.3.4/24 dev eth0", "ip a f dev eth0", "ip r f all", "ip -b x", "ip -n ns a", "ip x s", "ip mo"]) expect({ c, d: judge(c).decision }).toEqual({ c, d: "approval-required" });
  });
});

describe("3. paths are normalised, credentials are a class", () => {
  it("normalises //, /./, .. and marks relative climbs", () => {
    expect(normalisePath("//etc/./ssh/../shadow")).toEqual({ path: "/etc/shadow", escapes: false });
    expect(normalisePath("../../etc/shadow").escapes).toBe(true);
    expect(normalisePath("/../../etc").path).toBe("/etc");
  });
  it("every credential class needs approval in every spelling", () => {
    for (const c of ["cat /var/lib/rancher/k3s/server/node-token", "cat /root/.m2/settings.xml", "cat /run/containers/0/auth.json", "cat /etc/ceph/ceph.client.admin.keyring", "cat /etc/nginx/htpasswd", "cat /etc/gitlab-runner/config.toml", "cat /etc/grafana/grafana.ini", "cat /home/alice/.smbcredentials", "cat /etc/wpa_supplicant/wpa_supplicant.conf", "cat /etc/sssd/sssd.conf", "cat /etc/msmtprc", "cat /etc/letsencrypt/accounts/x/private_key.json", "cat /home/alice/.config/opsterm/config.yaml", "cat /home/bob/notes.txt", "cat /root/x", "cat /etc/./shadow", "cat /var/../etc/shadow", "cat ../x"]) {
      expect({ c, d: judge(c).decision }).toEqual({ c, d: "approval-required" });
    }
  });
});

describe("5. network egress", () => {
  it("needs approval unless the target matches policy.egress.allow", () => {
    const allow = ["*.internal", "10.0.0.0/8", "fd00::/8"];
    expect(judge("dig db.internal").decision).toBe("approval-required");
    expect(judge("dig db.internal @10.0.0.2", allow).decision).toBe("auto-allow");
    expect(judge("dig x.attacker.example @10.0.0.2", allow)).toMatchObject({ decision: "approval-required", rule: "approval.egress" });
    expect(judge("ping -c 3 10.1.2.3", allow).decision).toBe("auto-allow");
    expect(judge("ping -c 3 11.1.2.3", allow).decision).toBe("approval-required");
    expect(judge("getent hosts api.internal", allow).decision).toBe("auto-allow");
    expect(judge("nslookup evil.com", allow).decision).toBe("approval-required");
    expect(egressAllowed("a.b.internal", allow)).toBe(true);
    expect(egressAllowed("internal.evil.com", allow)).toBe(false);
    expect(inCidr("fd00::1", "fd00::/8")).toBe(true);
    expect(inCidr("10.255.0.1", "10.0.0.0/8")).toBe(true);
    expect(inCidr("11.0.0.1", "10.0.0.0/8")).toBe(false);
  });
  it("policy.egress.allow is a global-only key (a workspace may only make the policy stricter)", () => {
    const policy = POLICY_CONFIG.policy as unknown as { properties: { egress: { properties: { allow: { globalOnly?: boolean } } } } };
    expect(policy.properties.egress.properties.allow.globalOnly).toBe(true);
  });
});

describe("6-8. never-ending, unit secrets, devices", () => {
  it.each([
    ["lsof -r 1", "approval.never-ends"], ["journalctl -f", "approval.never-ends"], ["top -b -n 1 -d 100000", "approval.never-ends"], ["tail -f /var/log/syslog", "approval.never-ends"], ["cat /proc/kmsg", "approval.never-ends"],
    ["systemctl show nginx", "approval.unit-secrets"], ["systemctl cat nginx", "approval.unit-secrets"],
    ["file -s /dev/sda", "approval.device"], ["head -c 512 /dev/sda", "approval.device"], ["cat /dev/mem", "approval.sensitive-path"], ["cat /proc/kcore", "approval.sensitive-path"], ["cat /proc/1/mem", "approval.sensitive-path"],
  ])("%s → %s", (c, rule) => expectRule(c, rule));
  it("watch is a wrapper that never ends", () => expect(judge("watch uptime").decision).not.toBe("auto-allow"));
});

describe("corpora", () => {
  it("no attack line is auto-allowed", () => {
    const attacks = rows("attacks.txt");
    expect(attacks.length).toBeGreaterThan(250);
    expect(attacks.filter((c) => judge(c).decision === "auto-allow")).toEqual([]);
  });
  it("at least 85% of everyday read-only commands are auto-allowed", () => {
    const everyday = rows("everyday.txt");
    expect(everyday.length).toBeGreaterThanOrEqual(200);
    const allowed = everyday.filter((c) => judge(c).decision === "auto-allow").length;
    expect(allowed / everyday.length).toBeGreaterThanOrEqual(0.85);
  });
});

describe("9. user rules match the normalised argv", () => {
  async function service(yaml: string, egress: string[] = []) {
    const dir = mkdtempSync(join(tmpdir(), "policy-norm-"));
    writeFileSync(join(dir, "policy.yaml"), yaml);
    const s = createPolicyService([join(dir, "policy.yaml")], async () => egress);
    await s.load();
    return s;
  }
  it("deny [date, --set] catches -s, --set=…, --se=…; ask on a path catches its other spellings; ip prefixes expand", async () => {
    const s = await service("deny:\n  - [date, --set]\n  - ip link set\nask:\n  - cat /etc/app/db.conf\n");
    for (const c of ["date --set=2001-01-01", "date --set 2001-01-01", "date --se=2001-01-01", "date -s 2001-01-01", "sudo date -s x", "ip link s lo down", "ip l s lo down"]) expect({ c, d: s.classify(c).decision }).toEqual({ c, d: "reject" });
    for (const c of ["cat /etc/app/db.conf", "cat //etc/app/db.conf", "cat /etc/./app/db.conf", "cat /etc/app/../app/db.conf"]) expect({ c, d: s.classify(c).rule }).toEqual({ c, d: "user.ask[0]" });
    expect(s.classify("date +%F").decision).toBe("auto-allow");
    expect(normalArgv(["ip", "l", "s", "lo", "down"])).toEqual(["ip", "link", "set", "lo", "down"]);
    expect(normalArgv(["date", "-s", "x"])).toEqual(["date", "--set", "x"]);
    expect(normalArgv(["grep", "--dir=rec", "x", "//etc"])).toEqual(["grep", "--directories", "rec", "x", "/etc"]);
  });
  it("egress comes from the service's config and explain names the table entry", async () => {
    const s = await service("version: 1\n", ["*.internal"]);
    expect(s.classify("host db.internal").decision).toBe("auto-allow");
    const { verdict, trace } = s.explain("journalctl -n --vacuum-time=1s");
    expect(verdict.decision).toBe("approval-required");
    expect(trace.join("\n")).toContain("--vacuum-time");
    expect(trace.join("\n")).toMatch(/-n, --lines \[ARG\] \(optional argument/);
  });
  it("a recursive download needs approval outside /var/log, as its secret files would", async () => {
    const s = await service("version: 1\n");
    const read = (path: string, recursive: boolean) => s.decide({ kind: "read", path, recursive, server: "web1" } as never);
    expect((await read("/home/alice", true)).decision).toBe("approval-required");
    expect((await read("/home/alice/.ssh/id_ed25519", false)).decision).toBe("approval-required");
    expect((await read("/srv/app", true)).rule).toBe("policy.recursive-read");
    expect((await read("/var/log/nginx", true)).decision).toBe("auto-allow");
    expect((await read("/var/log/../../root", true)).decision).toBe("approval-required");
    expect((await read("/srv/app/README", false)).decision).toBe("auto-allow");
  });
});
