/**
 * The SFTP transfer core against a real OpenSSH sshd: round trips, mode and owner of replaced
 * files, symlinks, and interrupted uploads that must leave the old file intact.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Connection } from "../../../plugins/ssh/connect.ts";
import { loadKnownHosts } from "../../../plugins/ssh/known-hosts.ts";
import type { ResolvedServer } from "../../../plugins/ssh/types.ts";
import { downloadToFile, readRemote } from "../../../plugins/scp/download.ts";
import { openSftp, type Sftp } from "../../../plugins/scp/sftp.ts";
import { atomicUpload, inspectTarget, UploadError } from "../../../plugins/scp/upload.ts";
import { startSshd, type SshdHandle } from "../../helpers/sshd.ts";

let sshd: SshdHandle;
let dir: string;
let server: ResolvedServer;
let knownHostsPath: string;

async function open(): Promise<{ conn: Connection; sftp: Sftp }> {
  const conn = await connect(server, { hostKeys: { knownHosts: loadKnownHosts(knownHostsPath), mode: "strict" }, auth: { defaultKeys: [] } });
  return { conn, sftp: await openSftp(conn.client) };
}

async function* chunks(data: Buffer, size = 100_000): AsyncIterable<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "opsterm-scp-remote-"));
  knownHostsPath = join(sshd.dir, "known_hosts_test");
  writeFileSync(knownHostsPath, sshd.knownHostsLine() + "\n");
  server = { id: "box", host: sshd.host, port: sshd.port, user: sshd.user, key: sshd.userKeyPath, proxy: [], via: [], tags: [], scope: "global", at: "test" };
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("atomicUpload()", () => {
  it.each([0, 1, 32 * 1024, 3 * 1024 * 1024 + 7])("round-trips %i bytes with a matching sha256 and leaves no temp file", async (size) => {
    const { conn, sftp } = await open();
    try {
      const data = randomBytes(size);
      const path = join(dir, `round-${size}.bin`);
      const result = await atomicUpload(conn, sftp, chunks(data), await inspectTarget(sftp, path));
      expect(result.bytes).toBe(size);
      expect(result.sha256).toBe(sha(data));
      expect(result.verifiedBy).toBe("sha256sum");
      expect(result.fsynced).toBe(true);
      expect(readFileSync(path).equals(data)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o644);
      expect(readdirSync(dir).filter((n) => n.includes(".opsterm-"))).toEqual([]);
      const back: Buffer[] = [];
      const read = await readRemote(sftp, path, (c) => void back.push(Buffer.from(c)));
      expect(read.sha256).toBe(sha(data));
      expect(Buffer.concat(back).equals(data)).toBe(true);
    } finally {
      conn.close();
    }
  });

  it("keeps the mode and owner of the file it replaces", async () => {
    const { conn, sftp } = await open();
    try {
      const path = join(dir, "owned.conf");
      writeFileSync(path, "old\n");
      chmodSync(path, 0o640);
      chownSync(path, 4321, 4322);
      const result = await atomicUpload(conn, sftp, chunks(Buffer.from("new\n")), await inspectTarget(sftp, path));
      const st = statSync(path);
      expect(readFileSync(path, "utf8")).toBe("new\n");
      expect(result.replaced).toBe(true);
      expect(st.mode & 0o7777).toBe(0o640);
      expect([st.uid, st.gid]).toEqual([4321, 4322]);
    } finally {
      conn.close();
    }
  });

  it("applies an explicit mode with forceMode, and never exposes the temp file wider than 0600", async () => {
    const { conn, sftp } = await open();
    try {
      const path = join(dir, "secret.env");
      writeFileSync(path, "A=1\n", { mode: 0o644 });
      chmodSync(path, 0o644);
      await atomicUpload(conn, sftp, chunks(Buffer.from("A=2\n")), await inspectTarget(sftp, path), { mode: 0o600, forceMode: true });
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      conn.close();
    }
  });

  it("writes through a symlink to its target and leaves the link a link", async () => {
    const { conn, sftp } = await open();
    try {
      const real = join(dir, "real.txt");
      const link = join(dir, "link.txt");
      writeFileSync(real, "before\n");
      symlinkSync(real, link);
      const target = await inspectTarget(sftp, link);
      expect(target.path).toBe(real);
      await atomicUpload(conn, sftp, chunks(Buffer.from("after\n")), target);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(real);
      expect(readFileSync(real, "utf8")).toBe("after\n");
    } finally {
      conn.close();
    }
  });

  it("inspectTarget() refuses a directory", async () => {
    const { conn, sftp } = await open();
    try {
      await expect(inspectTarget(sftp, dir)).rejects.toMatchObject({ code: "E_SCP_IS_DIR" });
    } finally {
      conn.close();
    }
  });

  it("a connection killed mid-transfer leaves the old file intact", async () => {
    const { conn, sftp } = await open();
    const path = join(dir, "big.bin");
    const old = randomBytes(64 * 1024);
    writeFileSync(path, old);
    let sent = 0;
    async function* killer(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < 2000; i++) {
        sent += 64 * 1024;
        // After ~4 MiB the TCP connection dies under the transfer, as if the network dropped.
        if (sent > 4 * 1024 * 1024) (conn.client as unknown as { _sock: { destroy(): void } })._sock.destroy();
        yield randomBytes(64 * 1024);
      }
    }
    const error = await atomicUpload(conn, sftp, killer(), await inspectTarget(sftp, path)).catch((e) => e);
    conn.close();
    expect(error).toBeInstanceOf(UploadError);
    expect(error.code).toBe("E_SCP_WRITE");
    expect(error.message).toMatch(/the old file is intact/);
    expect(sent).toBeLessThan(128 * 1024 * 1024);
    expect(readFileSync(path).equals(old)).toBe(true);
  });

  it("an aborted upload on a live connection leaves the old file and removes the temp file", async () => {
    const { conn, sftp } = await open();
    try {
      const path = join(dir, "aborted.txt");
      writeFileSync(path, "keep me\n");
      const controller = new AbortController();
      async function* slow(): AsyncIterable<Uint8Array> {
        for (let i = 0; i < 100; i++) {
          if (i === 10) controller.abort(new Error("stop"));
          yield randomBytes(32 * 1024);
        }
      }
      await expect(atomicUpload(conn, sftp, slow(), await inspectTarget(sftp, path), { signal: controller.signal })).rejects.toThrow("stop");
      expect(readFileSync(path, "utf8")).toBe("keep me\n");
      expect(readdirSync(dir).filter((n) => n.startsWith(".aborted.txt.opsterm-"))).toEqual([]);
    } finally {
      conn.close();
    }
  });
});

describe("downloadToFile()", () => {
  it("writes the remote content atomically with the remote mode", async () => {
    const { conn, sftp } = await open();
    try {
      const remote = join(dir, "down.bin");
      const data = randomBytes(1024 * 1024 + 13);
      writeFileSync(remote, data);
      chmodSync(remote, 0o600);
      const local = join(mkdtempSync(join(tmpdir(), "opsterm-scp-local-")), "copy.bin");
      const result = await downloadToFile(sftp, remote, local, undefined);
      expect(result.sha256).toBe(sha(data));
      expect(readFileSync(local).equals(data)).toBe(true);
      expect(statSync(local).mode & 0o777).toBe(0o600);
    } finally {
      conn.close();
    }
  });
});
