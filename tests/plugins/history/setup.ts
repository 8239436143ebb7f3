/**
 * Shared for the history tests: a store on a temp dir, and the CLI bundled once with esbuild
 * (sql.js's .wasm next to the bundle, as in the real build), so spawned processes start fast.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { bundleDataOptions, copyBundleData } from "../../helpers/bundle-data.ts";
import { createHistoryStore, type HistoryDeps, type HistoryStore } from "../../../plugins/history/service.ts";

export const ROOT = join(import.meta.dirname, "../../..");

export interface TestStore {
  store: HistoryStore;
  dir: string;
  warnings: string[];
  clock: { now: number };
  secrets: string[];
  retention: { days?: number };
}

export function tempDir(prefix = "opsterm-history-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testStore(dir = tempDir()): TestStore {
  const t: TestStore = { store: undefined as unknown as HistoryStore, dir, warnings: [], clock: { now: Date.now() }, secrets: [], retention: {} };
  const deps: HistoryDeps = {
    dataDir: dir,
    pid: process.pid,
    warn: (text) => t.warnings.push(text),
    debug: () => {},
    secretValues: async () => t.secrets,
    retentionDays: async () => t.retention.days,
    now: () => t.clock.now,
  };
  t.store = createHistoryStore(deps);
  return t;
}

/** Bundles `entry` (or inline `contents`) to a CommonJS file in `outDir`. */
export async function bundle(outFile: string, entry: { path: string } | { contents: string }): Promise<string> {
  await build({
    absWorkingDir: ROOT,
    ...("path" in entry ? { entryPoints: [entry.path] } : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: "ts" as const } }),
    outfile: outFile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    ...bundleDataOptions,
    external: ["cpu-features", "*.node"],
    logLevel: "error",
  });
  copyBundleData(dirname(outFile));
  return outFile;
}
