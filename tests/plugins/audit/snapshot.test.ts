import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { auditFiles } from "../../../plugins/audit/log.ts";
import { encodeComponent, snapshot, snapshotAnchors, snapshotDiff, snapshotPath } from "../../../plugins/audit/snapshot.ts";

const PATH = process.env.PATH;

function files() {
  return auditFiles(mkdtempSync(join(tmpdir(), "opsterm-snap-")));
}

function gitShow(repo: string, spec: string): string {
  return execFileSync("git", ["--git-dir", repo, "show", spec], { env: { PATH, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } }).toString();
}

describe("snapshotPath()", () => {
  it.each([
    [["x", "a/b"], ["x/a", "b"]],
    [["x", "/etc/a"], ["x", "/etc/a/"]],
    [["web", "/a%2Fb"], ["web", "/a/b"]],
    [["a.b", "/c"], ["a", "b/c"]],
    [["x", "."], ["x", "%2E"]],
    [["x", "/etc/.."], ["x", "/etc/%2E%2E"]],
    [["x", "/ä"], ["x", "/%C3%A4"]],
  ])("snapshotPath() keeps %j and %j apart", (a, b) => {
    expect(snapshotPath(a[0], a[1])).not.toBe(snapshotPath(b[0], b[1]));
  });

  it("encodeComponent() never yields a slash, '.', '..' or a name starting with '.'", () => {
    for (const v of [".", "..", ".git", "/", "a/../b", "%", "\n", " x"]) {
      const e = encodeComponent(v);
      expect(e).not.toMatch(/[/\s]/);
      expect(e.startsWith(".")).toBe(false);
      expect(decodeURIComponent(e)).toBe(v);
    }
  });
});

describe("snapshot()", () => {
  it("snapshot() commits before/after states and snapshotDiff() shows the change", async () => {
    const f = files();
    const before = await snapshot(f, "web-1", "/etc/app.conf", Buffer.from("port=80\nmode=a\n"), "before write", { pathEnv: PATH });
    const after = await snapshot(f, "web-1", "/etc/app.conf", Buffer.from("port=8080\nmode=a\n"), "after write", { pathEnv: PATH, auditHead: () => ({ seq: 7, hash: "b".repeat(64) }) });
    expect(before.path).toBe(snapshotPath("web-1", "/etc/app.conf"));
    expect(gitShow(f.snapshots, `${before.commit}:${before.path}`)).toBe("port=80\nmode=a\n");
    expect(gitShow(f.snapshots, `${after.commit}:${after.path}`)).toBe("port=8080\nmode=a\n");
    const diff = await snapshotDiff(f, { path: after.path, before: before.commit, after: after.commit }, { pathEnv: PATH });
    expect(diff).toContain("-port=80\n+port=8080");
    expect(await snapshotAnchors(f, { pathEnv: PATH })).toEqual([{ commit: after.commit, seq: 7, hash: "b".repeat(64) }]);
  });

  it("snapshot() with null records the file as absent and keeps other files", async () => {
    const f = files();
    await snapshot(f, "web-1", "/etc/keep", Buffer.from("k"), "m", { pathEnv: PATH });
    await snapshot(f, "web-1", "/etc/gone", Buffer.from("g"), "m", { pathEnv: PATH });
    const gone = await snapshot(f, "web-1", "/etc/gone", null, "deleted", { pathEnv: PATH });
    const tree = execFileSync("git", ["--git-dir", f.snapshots, "ls-tree", "-r", "--name-only", gone.commit], { env: { PATH } }).toString().trim().split("\n");
    expect(tree).toEqual([snapshotPath("web-1", "/etc/keep")]);
    expect(gitShow(f.snapshots, gone.commit)).toMatch(/State: absent/);
  });

  it("snapshot() serializes concurrent commits into one linear history", async () => {
    const f = files();
    const refs = await Promise.all(Array.from({ length: 6 }, (_, i) => snapshot(f, `s${i}`, "/f", Buffer.from(String(i)), `c${i}`, { pathEnv: PATH })));
    const log = execFileSync("git", ["--git-dir", f.snapshots, "rev-list", "main"], { env: { PATH } }).toString().trim().split("\n");
    expect(log).toHaveLength(6);
    expect(new Set(refs.map((r) => r.commit))).toEqual(new Set(log));
    const tree = execFileSync("git", ["--git-dir", f.snapshots, "ls-tree", "-r", "--name-only", "main"], { env: { PATH } }).toString().trim().split("\n");
    expect(tree).toHaveLength(6);
  });

  it("snapshot() ignores the caller's git environment and runs no hooks", async () => {
    const f = files();
    mkdirSync(f.snapshots, { recursive: true });
    const saved = { GIT_DIR: process.env.GIT_DIR, GIT_INDEX_FILE: process.env.GIT_INDEX_FILE };
    process.env.GIT_DIR = "/nonexistent/elsewhere";
    process.env.GIT_INDEX_FILE = "/nonexistent/index";
    try {
      const ref = await snapshot(f, "web-1", "/x", Buffer.from("x"), "m", { pathEnv: PATH });
      expect(ref.commit).toMatch(/^[0-9a-f]{40}$/);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    // A hook planted in the repo must not run on the next snapshot.
    const marker = join(f.dir, "hook-ran");
    mkdirSync(join(f.snapshots, "hooks"), { recursive: true });
    for (const hook of ["pre-commit", "post-commit", "reference-transaction", "post-index-change"]) {
      writeFileSync(join(f.snapshots, "hooks", hook), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    }
    await snapshot(f, "web-1", "/x", Buffer.from("y"), "m", { pathEnv: PATH });
    expect(() => execFileSync("test", ["-e", marker])).toThrow();
    const author = execFileSync("git", ["--git-dir", f.snapshots, "log", "-1", "--format=%an <%ae>"], { env: { PATH } }).toString().trim();
    expect(author).toBe("opsterm <opsterm@localhost>");
  });

  it("snapshot() throws IoError E_SNAPSHOT when git cannot be found", async () => {
    await expect(snapshot(files(), "web-1", "/x", Buffer.from("x"), "m", { pathEnv: "/nonexistent" })).rejects.toMatchObject({
      code: "E_SNAPSHOT",
      exitCode: 74,
      message: expect.stringMatching(/git is not installed/),
    });
  });

  it("snapshot() throws IoError E_SNAPSHOT when the store is not writable", async () => {
    const f = files();
    mkdirSync(f.dir, { recursive: true });
    writeFileSync(f.snapshots, "a file where the repo should be");
    await expect(snapshot(f, "web-1", "/x", Buffer.from("x"), "m", { pathEnv: PATH })).rejects.toMatchObject({ code: "E_SNAPSHOT", exitCode: 74 });
  });
});
