import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // One TMPDIR per run, removed afterwards: tests make many temp dirs and not all remove theirs.
    globalSetup: ["tests/helpers/global-tmpdir.ts"],
    // Integration tests start real sshd and HTTP servers; keep them off each other's ports and CPUs.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
