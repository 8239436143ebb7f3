import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseJump, parseSshConfig, serversFromSshConfig } from "../../../plugins/ssh/ssh-config.ts";

function importFrom(files: Record<string, string>) {
  const home = mkdtempSync(join(tmpdir(), "opsterm-sshcfg-unit-"));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(home, ".ssh", rel, ".."), { recursive: true });
    writeFileSync(join(home, ".ssh", rel), text);
  }
  const servers = serversFromSshConfig(parseSshConfig(join(home, ".ssh", "config"), home), { home, localUser: "me" });
  return { home, byId: Object.fromEntries(servers.map((s) => [s.id, s])), ids: servers.map((s) => s.id) };
}

describe("serversFromSshConfig()", () => {
  it("follows a relative Include under ~/.ssh, applies first values and Host * defaults, skips wildcard and negated patterns", () => {
    const { byId, ids } = importFrom({
      config: ["Include conf.d/*.conf", "Host bastion", "  HostName 203.0.113.7", "  User ops", "  Port 2200", "Host db? *.corp", "  User pg", "Host * !bastion", "  User deploy", "  IdentityFile ~/.ssh/id_default", ""].join("\n"),
      "conf.d/inner.conf": "Host inner\n  HostName 10.1.1.1\n  User first\n  ProxyJump bastion\nHost inner\n  User second\n",
    });
    expect(ids.sort()).toEqual(["bastion", "inner"]);
    expect(byId.bastion).toEqual({ id: "bastion", host: "203.0.113.7", user: "ops", port: 2200 });
    // First value wins; Host * applies to inner but not (negated) to bastion.
    expect(byId.inner).toEqual({ id: "inner", host: "10.1.1.1", user: "first", key: "~/.ssh/id_default", proxy: "bastion" });
  });

  it("expands %d %h %r %u %% in IdentityFile", () => {
    const { home, byId } = importFrom({ config: "Host web1\n  HostName web1.corp\n  User deploy\n  IdentityFile %d/.ssh/%r@%h_%u_100%%\n" });
    expect(byId.web1.key).toBe(`${home}/.ssh/deploy@web1.corp_me_100%`);
  });

  it("turns a ProxyJump hop with another user or port, or a plain host, into an entry of its own", () => {
    const { byId } = importFrom({
      config: ["Host bastion", "  HostName 203.0.113.7", "  User ops", "Host web1", "  ProxyJump admin@bastion,jump.example.com:2222", "Host web2", "  ProxyJump ops@bastion:22", ""].join("\n"),
    });
    expect(byId.web1.proxy).toEqual(["admin_bastion", "jump.example.com_2222"]);
    // The hop keeps the alias's HostName, with the user from ProxyJump.
    expect(byId.admin_bastion).toEqual({ id: "admin_bastion", host: "203.0.113.7", user: "admin" });
    expect(byId["jump.example.com_2222"]).toEqual({ id: "jump.example.com_2222", host: "jump.example.com", port: 2222 });
    // Same user and port as the alias: the alias itself.
    expect(byId.web2.proxy).toBe("bastion");
  });
});

describe("parseJump()", () => {
  it.each([
    { spec: "bastion", want: { host: "bastion" } },
    { spec: "ops@bastion:2200", want: { user: "ops", host: "bastion", port: 2200 } },
    { spec: "ssh://ops@[2001:db8::1]:22", want: { user: "ops", host: "2001:db8::1", port: 22 } },
    { spec: "2001:db8::1", want: { host: "2001:db8::1" } },
  ])("$spec", ({ spec, want }) => {
    expect(parseJump(spec)).toEqual({ user: undefined, port: undefined, ...want });
  });
});
