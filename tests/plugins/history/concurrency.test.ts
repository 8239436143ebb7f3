/**
 * 50 real processes × 20 appends at once, some of them compacting (rotating the journal and
 * saving history.db) in between: exactly 1000 rows, none lost, none doubled.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { bundle, tempDir, testStore } from "./setup.ts";

const APPENDER = `
import { createHistoryStore } from "./plugins/history/service.ts";
const [dir, mode] = process.argv.slice(2);
const store = createHistoryStore({ dataDir: dir, pid: process.pid, warn: (t) => console.error(t), debug: () => {}, secretValues: async () => [], retentionDays: async () => undefined });
(async () => {
  for (let i = 0; i < 20; i++) {
    if (mode === "compact" && i % 10 === 5) await store.compact();
    await store.record({ mode: "exec", server: "p" + process.pid, command: "echo " + process.pid + "-" + i });
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

it("50 processes × 20 appends at once, with compactions running, give exactly 1000 rows", async () => {
  const work = tempDir("opsterm-history-conc-");
  const script = await bundle(join(work, "append.cjs"), { contents: APPENDER });
  const { store } = testStore(join(work, "data"));
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [script, store.journalPath.replace(/\/history\.journal$/, ""), i % 17 === 0 ? "compact" : "append"], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("exit", (code) => resolve({ code, stderr }));
      }),
    ),
  );
  expect(results.filter((r) => r.code !== 0)).toEqual([]);
  expect(await store.count()).toBe(1000);
  const { total } = await store.compact();
  expect(total).toBe(1000);
  const commands = new Set((await store.search({ limit: 5000 })).map((e) => e.input));
  expect(commands.size).toBe(1000);
}, 120_000);
