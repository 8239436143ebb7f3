/** Where the original OpsTerm's folder is, whether it was migrated, and when the reminder is due. */
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findOriginal, migrationState, NOTICE_INTERVAL_MS, noticeDue, noticePath, writeMarker } from "../../../plugins/migrate/detect.ts";

function home(): string {
  return mkdtempSync(join(tmpdir(), "opsterm-detect-"));
}
function folder(dir: string, files: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), "x: 1\n");
  return dir;
}

describe("findOriginal", () => {
  it("prefers $OPSTERM_DIR, then ~/.opsterm, then ~/.ai-workflows, and needs one of the original's files", () => {
    const h = home();
    const config = join(h, ".config", "opsterm");
    expect(findOriginal({}, h, config)).toBeUndefined();
    folder(join(h, ".opsterm"), []); // an empty folder is not the original's
    expect(findOriginal({}, h, config)).toBeUndefined();
    folder(join(h, ".ai-workflows"), ["workflows.yaml"]);
    expect(findOriginal({}, h, config)).toMatchObject({ via: "~/.ai-workflows", files: ["workflows.yaml"] });
    folder(join(h, ".opsterm"), ["config.yaml", "history.db"]);
    expect(findOriginal({}, h, config)).toMatchObject({ dir: join(h, ".opsterm"), via: "~/.opsterm", files: ["config.yaml", "history.db"] });
    const custom = folder(join(h, "elsewhere"), ["servers.yaml"]);
    expect(findOriginal({ OPSTERM_DIR: custom }, h, config)).toMatchObject({ dir: custom, via: "OPSTERM_DIR" });
    // opsterm's own folder (OPSTERM_HOME=~/.opsterm) is never the original's.
    expect(findOriginal({}, h, join(h, ".opsterm"))).toMatchObject({ via: "~/.ai-workflows" });
  });
});

describe("migrationState and the reminder", () => {
  it("is never, then done, then changed when an old file changes", async () => {
    const h = home();
    const old = folder(join(h, ".opsterm"), ["config.yaml"]);
    const data = join(h, "data");
    expect(migrationState(data, old)).toBe("never");
    await writeMarker(data, old);
    expect(migrationState(data, old)).toBe("done");
    utimesSync(join(old, "config.yaml"), new Date(), new Date(Date.now() + 5000));
    expect(migrationState(data, old)).toBe("changed");
  });

  it("is due when never shown, not within a day, again after one", () => {
    const data = home();
    const now = Date.now();
    expect(noticeDue(data, now)).toBe(true);
    writeFileSync(noticePath(data), `${now}\n`);
    expect(noticeDue(data, now + 1000)).toBe(false);
    expect(noticeDue(data, now + NOTICE_INTERVAL_MS)).toBe(true);
    writeFileSync(noticePath(data), "garbage\n");
    expect(noticeDue(data, now)).toBe(true);
  });
});
