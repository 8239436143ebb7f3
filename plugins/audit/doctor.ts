/**
 * `opsterm doctor` findings for audit: the log file, whether its chain verifies (a broken chain
 * makes every remote action refuse to run until it is dealt with), and the witness: what it is,
 * whether its socket is there, and whether the last send failed.
 */
import type { DoctorFinding, PluginContext } from "../../src/kernel/index.ts";
import { auditFiles, verifyLog } from "./log.ts";
import { describeWitness, readWitnessState, socketState, witnessConfig } from "./witness.ts";

export async function auditDoctor(ctx: PluginContext): Promise<DoctorFinding[]> {
  const files = auditFiles(ctx.paths.dataDir);
  const found: DoctorFinding[] = [{ kind: "file", path: files.log, description: "audit log (hash-chained)" }];
  try {
    const report = verifyLog(files);
    found.push(
      report.ok
        ? { kind: "check", name: "audit", status: "ok", detail: `${report.records} record(s), chain intact` }
        : { kind: "check", name: "audit", status: "fail", detail: `chain broken at seq ${report.firstBadSeq ?? "?"}: ${report.problem ?? "unknown problem"}`, hint: 'Remote actions are refused until this is resolved: see "opsterm audit verify" and "opsterm help audit"' },
    );
  } catch (error) {
    found.push({ kind: "check", name: "audit", status: "fail", detail: `the audit log cannot be read: ${(error as Error).message}`, hint: "Fix the permissions of the audit directory: remote actions cannot be recorded, so none will run" });
  }
  found.push(await witnessFinding(ctx, files));
  return found;
}

async function witnessFinding(ctx: PluginContext, files: ReturnType<typeof auditFiles>): Promise<DoctorFinding> {
  const name = "audit witness";
  let w;
  try {
    const config = await ctx.config();
    w = witnessConfig((k) => config.get(k));
  } catch (error) {
    return { kind: "check", name, status: "fail", detail: `the config cannot be read: ${(error as Error).message}` };
  }
  const what = describeWitness(w);
  if (w.kind === "none") {
    return { kind: "check", name, status: "warn", detail: what, hint: 'Without a witness, a log deleted or rewritten together with head.json is not detected: set audit.witness ("opsterm help audit" "Witness")' };
  }
  const state = readWitnessState(files);
  if (state?.status === "failing") {
    return { kind: "check", name, status: "fail", detail: `${what}: failing since ${state.since} (from record ${state.seq}): ${state.message}`, hint: 'Records are still written but not witnessed; "opsterm audit verify" lists them' };
  }
  if (w.kind === "syslog") {
    const problem = socketState(w.socket);
    if (problem) return { kind: "check", name, status: "fail", detail: `${what}: ${problem}`, hint: "Start the system logger (rsyslog or journald) or set audit.syslog.socket" };
  }
  const last = state ? `; last change: ok since ${state.since} (record ${state.seq})` : "";
  const readBack = w.kind === "syslog" ? `; verify reads ${w.read ?? "the journal or /var/log"}` : "";
  return { kind: "check", name, status: "ok", detail: `${what}${readBack}${last}` };
}
