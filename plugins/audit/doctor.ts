/**
 * `opsterm doctor` findings for audit: the log file, and whether its chain verifies (a broken
 * chain makes every remote action refuse to run until it is dealt with).
 */
import type { DoctorFinding, PluginContext } from "../../src/kernel/index.ts";
import { auditFiles, verifyLog } from "./log.ts";

export function auditDoctor(ctx: PluginContext): DoctorFinding[] {
  const files = auditFiles(ctx.paths.dataDir);
  const found: DoctorFinding[] = [{ kind: "file", path: files.log, description: "audit log (hash-chained)" }];
  try {
    const report = verifyLog(files);
    found.push(
      report.ok
        ? { kind: "check", name: "audit", status: "ok", detail: `${report.records} record(s), chain intact` }
        : { kind: "check", name: "audit", status: "fail", detail: `chain broken at seq ${report.firstBadSeq ?? "?"}: ${report.problem ?? "unknown problem"}`, hint: 'Remote actions are refused until this is resolved: see "opsterm audit verify" and docs/audit.md' },
    );
  } catch (error) {
    found.push({ kind: "check", name: "audit", status: "fail", detail: `the audit log cannot be read: ${(error as Error).message}`, hint: "Fix the permissions of the audit directory: remote actions cannot be recorded, so none will run" });
  }
  return found;
}
