/**
 * The migrate plugin: moving from the original OpsTerm (`opsterm migrate`), settings bundles
 * (`export` / `import`), the original's config keys opsterm accepts but does not use (`shell:`,
 * `rtk:`), and the reminder — in `doctor` and once a day on stderr — while the original's folder
 * has not been migrated.
 */
import { definePlugin } from "../../src/kernel/index.ts";
import { migrateCommands } from "./commands.ts";

/** Commands that never show the reminder: migrate itself, and what shells and scripts call. */
const QUIET = new Set(["migrate", "doctor", "completion", "export", "import", "config path"]);

export default definePlugin({
  name: "migrate",
  apiVersion: 1,
  description: "Moving from the original OpsTerm (opsterm migrate) and settings bundles (export, import)",
  commands: migrateCommands,
  config: {
    // The original OpsTerm's sections, so its config.yaml is accepted as it is.
    shell: { type: "any", description: "The original OpsTerm's shell settings (confirm_before_exec, auto_exec_patterns): accepted, not used; opsterm's policy decides" },
    rtk: { type: "any", description: "The original OpsTerm's RTK settings: accepted, not used" },
  },
  hooks: {
    async doctor(_, ctx) {
      const { findOriginal, migrationState } = await import("./detect.ts");
      const found = findOriginal(ctx.env, ctx.paths.home, ctx.paths.configDir);
      if (!found) return [];
      const state = migrationState(ctx.paths.dataDir, found.dir);
      if (state === "done") return [{ kind: "check", name: "original OpsTerm", status: "ok", detail: `${found.dir} migrated` }];
      return [
        {
          kind: "check",
          name: "original OpsTerm",
          status: "warn",
          detail: state === "changed" ? `${found.dir} changed since it was migrated` : `${found.dir} (${found.files.join(", ")}) has not been migrated`,
          hint: "opsterm migrate --dry-run shows what it brings over; opsterm migrate does it",
        },
      ];
    },
    async beforeCommand(event, ctx) {
      if (QUIET.has(event.command) || ctx.env.OPSTERM_NO_MIGRATE_NOTICE) return;
      const { findOriginal, migrationState, noticeDue, noticePath } = await import("./detect.ts");
      const found = findOriginal(ctx.env, ctx.paths.home, ctx.paths.configDir);
      if (!found || migrationState(ctx.paths.dataDir, found.dir) === "done") return;
      const now = Date.now();
      if (!noticeDue(ctx.paths.dataDir, now)) return;
      try {
        const { atomicWrite } = await import("../../src/lib/atomic-write.ts");
        await atomicWrite(noticePath(ctx.paths.dataDir), `${now}\n`);
      } catch {
        return; // no place to remember it: better silent than every time
      }
      ctx.io.err(ctx.io.errStyle.dim(`opsterm: found the original OpsTerm's settings in ${found.dir}; "opsterm migrate" brings them over (shown once a day)`));
    },
  },
});
