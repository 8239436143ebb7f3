/**
 * Rough edges of issue 15 that need a server: on the built binary against a real sshd on loopback.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuilt } from "../helpers/binary.ts";
import { startSshd, writeOpstermHome, type SshdHandle } from "../helpers/sshd.ts";

let sshd: SshdHandle;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

function binary(args: string[], env: Record<string, string>, input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(requireBuilt(), args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe("on a server", () => {
  it("the changed-host-key warning names the server id as it is written (Web-Prod1, not WEB-PROD1)", async () => {
    const wrongKey = readFileSync(`${sshd.userKeyPath}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    const h = writeOpstermHome({ servers: { "Web-Prod1": sshd.server() }, knownHosts: [`[127.0.0.1]:${sshd.port} ${wrongKey}`] });
    try {
      const r = await binary(["exec", "Web-Prod1", "--", "uname", "-n"], h.env);
      expect(r.code).toBe(77);
      expect(r.stderr).toContain('WARNING: THE HOST KEY OF "Web-Prod1"');
      expect(r.stderr).toContain("HAS CHANGED");
      expect(r.stderr).not.toContain("WEB-PROD1");
    } finally {
      h.cleanup();
    }
  });

  it("put into a directory that does not exist says which directory is missing", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      const missing = `${h.home}/no-such-dir`;
      const r = await binary(["put", "box", `${missing}/app.conf`, "--yes"], h.env, "hello\n");
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${missing}`);
      expect(r.stderr).toMatch(/does not exist/);
      expect(r.stderr).not.toMatch(/E_INTERNAL|bug in opsterm/);
    } finally {
      h.cleanup();
    }
  });
});
