import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import historyPlugin from "../../../plugins/history/index.ts";
import { JOURNAL_MAX_BYTES } from "../../../plugins/history/service.ts";
import { definePlugin } from "../../../src/kernel/index.ts";
import { createTestKernel } from "../../helpers/test-kernel.ts";

const vault = definePlugin({ name: "vault-fake", apiVersion: 1, hooks: { secretValues: () => ["p4ssw0rd-from-vault"] } });

it("the history hook records through the plugin, redacting values from the secretValues hook", async () => {
  const t = await createTestKernel([vault, historyPlugin]);
  await t.kernel.hooks.call("history", { mode: "exec", server: "web-1", command: "mysql -pp4ssw0rd-from-vault", exitCode: 0, durationMs: 5 });
  const service = t.ctx.use("history");
  const [entry] = await service.search({ query: "mysql" });
  expect(entry).toMatchObject({ mode: "exec", server: "web-1", exitCode: 0 });
  expect(entry.input).not.toContain("p4ssw0rd-from-vault");
  expect(readFileSync(join(t.home, "history.journal"), "utf8")).not.toContain("p4ssw0rd-from-vault");
  expect(await service.get(entry.id)).toMatchObject({ uid: entry.uid });
  await t.kernel.close();
});

it("a process that only appends compacts at exit once the journal is large", async () => {
  const t = await createTestKernel([historyPlugin]);
  const service = t.ctx.use("history");
  const answer = "a".repeat(8000);
  let n = 0;
  while (!existsSync(join(t.home, "history.journal")) || statSync(join(t.home, "history.journal")).size <= JOURNAL_MAX_BYTES) {
    await service.record({ mode: "ask", question: `q${n++}`, answer });
  }
  expect(existsSync(join(t.home, "history.db"))).toBe(false);
  await t.kernel.close();
  expect(existsSync(join(t.home, "history.db"))).toBe(true);
  expect(existsSync(join(t.home, "history.journal"))).toBe(false);
  const again = await createTestKernel([historyPlugin], { home: t.home });
  expect(await again.ctx.use("history").search({ limit: 1000 })).toHaveLength(n);
  await again.kernel.close();
});
