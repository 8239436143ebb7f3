/**
 * `opsterm exec` on a terminal (a real pty from util-linux `script`): the unknown-host question
 * with the SHA256 fingerprint (yes records the key, no refuses), the approval question with host,
 * command and reason, and fan-out progress on stderr.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../../plugins/ssh/known-hosts.ts";
import { runOnTty } from "../../helpers/pty.ts";
import { startSshd, writeOpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let sshd: SshdHandle;
let scratch: string;

beforeAll(async () => {
  sshd = await startSshd();
  scratch = mkdtempSync(join(tmpdir(), "opsterm-tty-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("opsterm exec on a terminal", () => {
  it("asks about an unknown host key showing its SHA256 fingerprint; no refuses, yes records it", async () => {
    // Plain entries here (hashing is tested in exec.test.ts).
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [], config: { ssh: { hashKnownHosts: false } } });
    try {
      const no = await runOnTty(["exec", "box", "--", "uname", "-n"], h.env, [{ when: /Trust it/, send: "n" }]);
      expect(no.output).toMatch(/authenticity of host \[127\.0\.0\.1\]:\d+ \("box"\) can't be established/);
      expect(no.output).toContain(`ssh-ed25519 key fingerprint is ${fingerprint(Buffer.from(sshd.hostKeyPub.split(" ")[1], "base64"))}.`);
      expect(no.code).toBe(77);
      expect(readFileSync(h.knownHostsPath, "utf8").trim()).toBe("");

      const yes = await runOnTty(["exec", "box", "--", "uname", "-n"], h.env, [{ when: /Trust it/, send: "y" }]);
      expect(yes.code).toBe(0);
      expect(readFileSync(h.knownHostsPath, "utf8").trim()).toBe(sshd.knownHostsLine());
      // Known now: no question the next time.
      const again = await runOnTty(["exec", "box", "--", "uname", "-n"], h.env);
      expect(again.code).toBe(0);
      expect(again.output).not.toMatch(/authenticity/);
    } finally {
      h.cleanup();
    }
  });

  it("asks for approval showing host, command and reason; no runs nothing, yes runs it", async () => {
    const h = writeOpstermHome({ servers: { box: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
    try {
      const marker = join(scratch, "approved");
      const no = await runOnTty(["exec", "box", "--", "touch", marker], h.env, [{ when: /Run it\?/, send: "n" }]);
      expect(no.output).toContain(`box (exec): touch ${marker}`);
      expect(no.output).toMatch(/approval required/);
      expect(no.code).toBe(77);
      expect(existsSync(marker)).toBe(false);
      const yes = await runOnTty(["exec", "box", "--", "touch", marker], h.env, [{ when: /Run it\?/, send: "y" }]);
      expect(yes.code).toBe(0);
      expect(existsSync(marker)).toBe(true);
      // The approver is recorded in the audit log.
      const records = readFileSync(join(h.home, "audit", "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(records.filter((r) => r.phase === "intent").at(-1)).toMatchObject({ approver: expect.stringMatching(/^tty:/) });
    } finally {
      h.cleanup();
    }
  });

  it("fans out with one approval question for all hosts and live progress", async () => {
    const h = writeOpstermHome({
      servers: { a: sshd.server({ tags: ["all"] }), b: sshd.server({ tags: ["all"] }), c: sshd.server({ tags: ["all"] }) },
      knownHosts: [sshd.knownHostsLine()],
    });
    try {
      const marker = join(scratch, "fanout");
      const r = await runOnTty(["exec", "@all", "--", "touch", marker], h.env, [{ when: /Run it on all 3 hosts\?/, send: "y" }]);
      // Asked once (the answered question is drawn again with a ✔, not asked again).
      expect(r.output.replace(/✔ Run it on all 3 hosts\?/g, "").match(/Run it on all 3 hosts\?/g)).toHaveLength(1);
      expect(r.output).toMatch(/hosts \(3\): a, b, c/);
      expect(r.output).toMatch(/\[3\/3\] 3 ok, 0 failed/);
      expect(r.output).toMatch(/a,b,c \(exit 0\)/);
      expect(r.code).toBe(0);
      expect(existsSync(marker)).toBe(true);
    } finally {
      h.cleanup();
    }
  });
});
