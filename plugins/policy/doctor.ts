/**
 * `opsterm doctor` findings for policy: the rule files, and whether they load (an invalid file
 * makes every command a reject, which is safe but stops all remote work).
 */
import type { DoctorFinding } from "../../src/kernel/index.ts";
import { loadUserRules } from "./user-rules.ts";

export async function policyDoctor(files: string[]): Promise<DoctorFinding[]> {
  const rules = await loadUserRules(files);
  const check: DoctorFinding = rules.invalid
    ? { kind: "check", name: "policy rules", status: "fail", detail: `invalid, so every command is rejected: ${rules.invalid}`, hint: "Fix the file; docs/policy.md shows the format" }
    : { kind: "check", name: "policy rules", status: "ok", detail: rules.files.length ? `${rules.rules.length + rules.session.length} rule(s) from ${rules.files.join(", ")}` : "built-in rules only (no policy.yaml)" };
  return [...files.map((path): DoctorFinding => ({ kind: "file", path, description: "policy rules" })), check];
}
