/**
 * `opsterm doctor` findings for policy: the rule files, and whether they load (an invalid file
 * makes every command a reject, which is safe but stops all remote work).
 */
import type { DoctorFinding } from "../../src/kernel/index.ts";
import { loadUserRules, type RuleFile } from "./user-rules.ts";

export async function policyDoctor(files: RuleFile[]): Promise<DoctorFinding[]> {
  const rules = await loadUserRules(files);
  const paths = files.map((f) => (typeof f === "string" ? f : f.path));
  const check: DoctorFinding = rules.invalid
    ? { kind: "check", name: "policy rules", status: "fail", detail: `invalid, so every command is rejected: ${rules.invalid}`, hint: "Fix the file; \"opsterm help policy\" shows the format" }
    : { kind: "check", name: "policy rules", status: "ok", detail: rules.files.length ? `${rules.rules.length + rules.session.length} rule(s) from ${rules.files.join(", ")}` : "built-in rules only (no policy.yaml)" };
  const ignored: DoctorFinding[] = rules.ignored.length
    ? [{ kind: "check", name: "workspace rules", status: "warn", detail: `ignored ${rules.ignored.length} workspace rule(s) that would relax the policy: ${rules.ignored.map((r) => r.at).join(", ")}`, hint: "A workspace policy.yaml may only add ask/deny rules; put allow rules in the global policy.yaml" }]
    : [];
  return [...paths.map((path): DoctorFinding => ({ kind: "file", path, description: "policy rules" })), check, ...ignored];
}
