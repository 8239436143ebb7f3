/**
 * The transfer progress bar: drawn on a terminal for large files (a real pty from `script`),
 * never without one, and the unit behaviour of createProgress() (threshold, rate limit, erase).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgress, PROGRESS_MIN_BYTES } from "../../../plugins/scp/progress.ts";
import { runOnTty } from "../../helpers/pty.ts";
import { runOpsterm, startSshd, writeOpstermHome, type OpstermHome, type SshdHandle } from "../../helpers/sshd.ts";

let sshd: SshdHandle;
let home: OpstermHome;
let dir: string;

beforeAll(async () => {
  sshd = await startSshd();
  home = writeOpstermHome({ servers: { web1: sshd.server() }, knownHosts: [sshd.knownHostsLine()] });
  dir = mkdtempSync(join(tmpdir(), "opsterm-scp-progress-"));
});
afterAll(async () => {
  await sshd?.stop();
  home?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("progress bar", () => {
  it("is drawn on a terminal for a large upload and absent without one", async () => {
    const local = join(dir, "big.bin");
    const data = randomBytes(8 * 1024 * 1024);
    writeFileSync(local, data);
    const tty = await runOnTty(["scp", local, `web1:${join(dir, "up-tty.bin")}`, "--yes"], home.env);
    expect(tty.code).toBe(0);
    // "web1:up-tty.bin [####------]  40% 3.2 MiB 40 MiB/s", redrawn in place, erased at the end.
    expect(tty.output).toMatch(/\r\x1b\[2Kweb1:up-tty\.bin \[[#-]+\]\s+\d+% [\d.]+ [KM]iB [\d.]+ [KM]?i?B\/s/);
    expect(tty.output).toMatch(/\r\x1b\[2K[^\r\n]*big\.bin → web1:\S+ \(8\.0 MiB, 0644\)\r?\nuploaded 1 file/);
    expect(readFileSync(join(dir, "up-tty.bin")).equals(data)).toBe(true);

    const plain = await runOpsterm(["scp", local, `web1:${join(dir, "up-plain.bin")}`, "--yes"], home.env);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/\[#|%/);
  });
});

describe("createProgress()", () => {
  function fakeStream() {
    const writes: string[] = [];
    return { writes, stream: { columns: 100, write: (s: string) => void writes.push(s) } as unknown as NodeJS.WriteStream };
  }

  it("draws nothing for small or disabled transfers", () => {
    const { writes, stream } = fakeStream();
    const small = createProgress(stream, true, "x", PROGRESS_MIN_BYTES - 1);
    small.add(PROGRESS_MIN_BYTES - 1);
    small.done();
    const off = createProgress(stream, false, "x", 10 * PROGRESS_MIN_BYTES);
    off.add(10 * PROGRESS_MIN_BYTES);
    off.done();
    expect(writes).toEqual([]);
  });

  it("redraws at most every 100 ms and erases its line when done", () => {
    const { writes, stream } = fakeStream();
    let now = 1000;
    const p = createProgress(stream, true, "big.bin", 4 * PROGRESS_MIN_BYTES, () => now);
    for (let i = 0; i < 4; i++) {
      now += 10;
      p.add(PROGRESS_MIN_BYTES / 2);
    }
    expect(writes).toHaveLength(1);
    now += 200;
    p.add(2 * PROGRESS_MIN_BYTES);
    expect(writes.at(-1)).toMatch(/^\r\x1b\[2Kbig\.bin \[#+\] 100% /);
    p.done();
    expect(writes.at(-1)).toBe("\r\x1b[2K");
  });
});
