import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadInventory, resolveTargets } from "../../../plugins/ssh/inventory.ts";
import { sshArgv } from "../../../plugins/ssh/executors.ts";
import { pathsFor, trustWorkspace } from "../../helpers/workspace.ts";

async function world(global: string, workspace?: string) {
  const root = mkdtempSync(join(tmpdir(), "opsterm-inv-"));
  const configDir = join(root, "home");
  mkdirSync(configDir);
  writeFileSync(join(configDir, "servers.yaml"), global);
  let workspaceDir: string | undefined;
  if (workspace !== undefined) {
    workspaceDir = join(root, "proj", ".opsterm");
    mkdirSync(workspaceDir, { recursive: true });
    writeFileSync(join(workspaceDir, "servers.yaml"), workspace);
    await trustWorkspace(configDir, workspaceDir);
  }
  return loadInventory(pathsFor(configDir, workspaceDir), { defaultUser: "me", home: "/home/me" });
}

const ORIGINAL = `servers:
  bastion: { host: 203.0.113.7, user: ops, port: 22, key: ~/.ssh/id_ed25519 }
  inner: { host: 10.0.0.2, proxy: bastion }
  web1:
    host: 10.0.0.5
    user: ubuntu            # default: current user
    port: 22
    key: ~/.ssh/id_ed25519  # optional
    proxy: [bastion, inner]
    tags: [web, prod]
    tier: prod
    desc: "frontend"
  web2: { host: 10.0.0.6, tags: [web] }
  db1: { host: 10.0.0.9, port: 2222, tags: [db, prod] }
`;

describe("loadInventory()", () => {
  it("reads the original OpsTerm format and expands jump chains (proxies of proxies first)", async () => {
    const inv = await world(ORIGINAL);
    const web1 = inv.byId.get("web1")!;
    expect(web1).toMatchObject({ host: "10.0.0.5", user: "ubuntu", port: 22, key: "/home/me/.ssh/id_ed25519", tags: ["web", "prod"], tier: "prod", desc: "frontend", scope: "global" });
    // inner itself goes through bastion: the chain does not hop through bastion twice.
    expect(web1.via.map((h) => h.id)).toEqual(["bastion", "inner"]);
    expect(inv.byId.get("inner")!.via.map((h) => h.id)).toEqual(["bastion"]);
    expect(inv.byId.get("web2")).toMatchObject({ user: "me", port: 22, via: [] });
    expect(web1.at).toMatch(/servers\.yaml:4:3$/);
  });

  it.each([
    { name: "unknown key", yaml: "servers:\n  a: { host: h, prot: 22 }\n", error: /servers\.yaml:2:\d+: servers\.a\.prot: unknown key "prot" \(did you mean "port"\?\)/ },
    { name: "wrong type", yaml: "servers:\n  a: { host: h, port: many }\n", error: /servers\.yaml:2:\d+: servers\.a\.port/ },
    { name: "missing host", yaml: "servers:\n  a: { user: x }\n", error: /missing required key "host"/ },
    { name: "unknown proxy", yaml: "servers:\n  a: { host: h }\n  b:\n    host: h\n    proxy: [aa]\n", error: /servers\.yaml:5:\d+: servers\.b\.proxy: unknown server "aa" \(did you mean "a"\?\)/ },
    { name: "proxy cycle", yaml: "servers:\n  a: { host: h, proxy: b }\n  b: { host: h, proxy: a }\n", error: /proxy cycle: .*a.*b.*a|proxy cycle: .*b.*a.*b/ },
    { name: "self proxy", yaml: "servers:\n  a: { host: h, proxy: a }\n", error: /proxy cycle/ },
    { name: "host starting with -", yaml: "servers:\n  a: { host: -oProxyCommand=x }\n", error: /invalid host/ },
    { name: "id starting with -", yaml: "servers:\n  -a: { host: h }\n", error: /invalid id "-a"/ },
  ])("rejects $name with file:line", async ({ yaml, error }) => {
    await expect(world(yaml)).rejects.toThrow(error);
  });

  it("lets workspace entries replace global ones by id and says so", async () => {
    const inv = await world(ORIGINAL, "servers:\n  web2: { host: 192.168.1.6 }\n  local: { host: 127.0.0.1 }\n");
    expect(inv.byId.get("web2")).toMatchObject({ host: "192.168.1.6", scope: "workspace", shadows: { scope: "global" } });
    expect(inv.byId.get("web2")!.shadows!.at).toMatch(/home\/servers\.yaml:13:3$/);
    expect(inv.byId.get("local")).toMatchObject({ scope: "workspace", shadows: undefined });
  });

  it("keeps the global entry's tier for a workspace entry that shadows it, and records where the global one pointed", async () => {
    const inv = await world(ORIGINAL, "servers:\n  web1: { host: 192.168.1.5, tier: dev }\n  db1: { host: 192.168.1.9, tier: prod }\n  web2: { host: 192.168.1.6 }\n");
    expect(inv.byId.get("web1")).toMatchObject({ host: "192.168.1.5", tier: "prod", shadows: { host: "10.0.0.5", port: 22 } });
    expect(inv.byId.get("db1")).toMatchObject({ tier: "prod", shadows: { host: "10.0.0.9", port: 2222 } });
    expect(inv.byId.get("web2")!.tier).toBeUndefined();
  });

  it("reads no workspace file until the workspace is trusted", async () => {
    const root = mkdtempSync(join(tmpdir(), "opsterm-inv-"));
    writeFileSync(join(root, "servers.yaml"), ORIGINAL);
    mkdirSync(join(root, ".opsterm"));
    writeFileSync(join(root, ".opsterm", "servers.yaml"), "servers:\n  web1: { host: 192.168.1.5 }\n");
    const inv = await loadInventory(pathsFor(root, join(root, ".opsterm")), { defaultUser: "me", home: "/home/me" });
    expect(inv.byId.get("web1")).toMatchObject({ host: "10.0.0.5", scope: "global" });
  });
});

describe("resolveTargets()", () => {
  it.each([
    { spec: "web1", ids: ["web1"] },
    { spec: "web2,db1", ids: ["db1", "web2"] },
    { spec: "web*", ids: ["web1", "web2"] },
    { spec: "@prod", ids: ["db1", "web1"] },
    { spec: "@web,db1,web1", ids: ["db1", "web1", "web2"] },
  ])("resolves $spec", async ({ spec, ids }) => {
    expect(resolveTargets(await world(ORIGINAL), spec).map((s) => s.id)).toEqual(ids);
  });

  it.each([
    { spec: "web3", error: /Unknown server "web3", did you mean "web1"\?/ },
    { spec: "@stage", error: /No server has tag "stage"/ },
    { spec: "app*", error: /No server id matches "app\*"/ },
  ])("refuses $spec", async ({ spec, error }) => {
    expect(() => resolveTargets(ORIGINAL_INV!, spec)).toThrow(error);
  });
});
let ORIGINAL_INV: Awaited<ReturnType<typeof world>> | undefined;
await world(ORIGINAL).then((i) => (ORIGINAL_INV = i));

describe("sshArgv()", () => {
  it("builds -p, -i, -J and puts -- before the destination", async () => {
    const inv = await world(ORIGINAL);
    expect(sshArgv(inv.byId.get("web1")!)).toEqual(["-i", "/home/me/.ssh/id_ed25519", "-J", "ops@203.0.113.7:22,me@10.0.0.2:22", "--", "ubuntu@10.0.0.5"]);
    expect(sshArgv(inv.byId.get("db1")!, "/tmp/kh")).toEqual(["-p", "2222", "-o", "UserKnownHostsFile=/tmp/kh", "--", "me@10.0.0.9"]);
  });

  it.each(["-oProxyCommand=touch /tmp/x", "host\nname", "a b"])("refuses a host like %j", (host) => {
    expect(() => sshArgv({ id: "x", host, port: 22, user: "u", proxy: [], via: [], tags: [], scope: "global", at: "" })).toThrow(/Refusing host/);
  });

  it("refuses a user starting with -", () => {
    expect(() => sshArgv({ id: "x", host: "h", port: 22, user: "-oX", proxy: [], via: [], tags: [], scope: "global", at: "" })).toThrow(/Refusing user/);
  });
});
