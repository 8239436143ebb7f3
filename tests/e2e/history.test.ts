/**
 * History through the standalone binary: the sql.js WebAssembly inlined in the bundle, the paged
 * reader and the query-time V8 flags only exist there (tests under tsx run Node 20 and read the
 * .wasm from node_modules), so a search must be proven to answer from dist/opsterm itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseEnv, opstermAsync, tempDir } from "../helpers/binary.ts";
import { startFakeAi, type FakeAi } from "../helpers/fake-ai-server.ts";

let ai: FakeAi;
beforeAll(async () => {
  ai = await startFakeAi();
});
afterAll(() => ai.close());

/** Async (the fake AI server in this process must answer while the binary runs), with exactly `env`. */
const opsterm = (args: string[], env: Record<string, string>) => opstermAsync(args, { home: env.OPSTERM_HOME, env, clean: true });

describe("dist/opsterm history", () => {
  it("records an answer, finds it by a word before and after compaction, and shows it", async () => {
    const home = tempDir();
    const env = { ...baseEnv(home), OPSTERM_BASE_URL: ai.baseUrl, OPSTERM_MODEL: "fake-model", NO_COLOR: "1" };
    ai.enqueue(ai.stream(["nginx returns 502 because ", "the upstream socket is gone."]));
    const ask = await opsterm(["ask", "why does nginx answer 502?"], env);
    expect(ask.code, ask.stderr).toBe(0);
    expect(ask.stdout).toContain("upstream socket is gone");

    const fromJournal = await opsterm(["history", "nginx", "--json"], env);
    expect(fromJournal.code, fromJournal.stderr).toBe(0);
    const rows = (JSON.parse(fromJournal.stdout) as { entries: { id: number; mode: string; output: string }[] }).entries;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ mode: "ask", output: expect.stringContaining("upstream socket") });

    expect((await opsterm(["history", "compact"], env)).code).toBe(0);
    const fromDb = await opsterm(["history", "upstream"], env);
    expect(fromDb.code, fromDb.stderr).toBe(0);
    expect(fromDb.stdout).toContain("nginx");
    const none = await opsterm(["history", "postgres", "--json"], env);
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toMatchObject({ entries: [] });

    const show = await opsterm(["history", "show", String(rows[0].id)], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("why does nginx answer 502?");
    expect(show.stdout).toContain("upstream socket is gone");
  });
});
