/**
 * The "files" service ({ put, get }) as the agent and workflows use it: a real kernel with the
 * built-in policy, audit, ssh and scp plugins, against a real sshd.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../../plugins/index.ts";
import "../../../plugins/scp/types.ts";
import { startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";
import { createTestKernel, type TestKernel } from "../../helpers/test-kernel.ts";

let sshd: SshdHandle;
let home: OpstermHome;
let t: TestKernel;
let remote: string;

beforeAll(async () => {
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  t = await createTestKernel(BUILTIN_PLUGINS, { env: home.env, home: home.home });
  remote = mkdtempSync(join(tmpdir(), "opsterm-scp-svc-"));
});

afterAll(async () => {
  await t?.kernel.close();
  await sshd?.stop();
  home?.cleanup();
  rmSync(remote, { recursive: true, force: true });
});

describe("files service", () => {
  it("put() writes through the orchestrator with snapshots; get() reads the content back", async () => {
    const files = t.ctx.use("files");
    const path = join(remote, "app.env");
    writeFileSync(path, "A=1\n");
    const put = await files.put(t.ctx, { server: "web1", path, content: "A=2\n", preApproved: true, origin: "ai" });
    expect(put.exitCode).toBe(0);
    expect(put.failure).toBeUndefined();
    expect(put.action).toMatchObject({ attempted: true, completed: true, auditStatus: "written", approver: "flag:--yes" });
    expect(put.action.action).toMatchObject({ kind: "write", server: "web1", path, origin: "ai" });
    expect(put.sha256).toBe(createHash("sha256").update("A=2\n").digest("hex"));
    expect(put.snapshots.before?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(put.snapshots.after?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(readFileSync(path, "utf8")).toBe("A=2\n");

    const got = await files.get(t.ctx, { server: "web1", path });
    expect(got.exitCode).toBe(0);
    expect(Buffer.from(got.content!).toString()).toBe("A=2\n");
    expect(got.action.action.kind).toBe("read");
  });

  it("put() without pre-approval and without a TTY is denied (77) and writes nothing", async () => {
    const files = t.ctx.use("files");
    const path = join(remote, "keep.txt");
    writeFileSync(path, "keep\n");
    const put = await files.put(t.ctx, { server: "web1", path, content: "gone\n", origin: "ai" });
    expect(put.exitCode).toBe(77);
    expect(put.failure?.code).toBe("E_APPROVAL_DENIED");
    expect(put.action.attempted).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("keep\n");
  });

  it("get() refuses a file larger than maxBytes, and reports a missing one", async () => {
    const files = t.ctx.use("files");
    const path = join(remote, "big.log");
    writeFileSync(path, "x".repeat(5000));
    const big = await files.get(t.ctx, { server: "web1", path, maxBytes: 1000 });
    expect(big.exitCode).toBe(1);
    expect(big.failure?.code).toBe("E_SCP_TOO_BIG");
    const missing = await files.get(t.ctx, { server: "web1", path: join(remote, "absent") });
    expect(missing.failure?.code).toBe("E_SCP_NOT_FOUND");
  });
});
