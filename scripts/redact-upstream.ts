/**
 * Compares the redactor's rules with an upstream gitleaks rule file: which upstream rules no rule
 * of ours follows yet, and which of our `upstream` references upstream no longer has (renamed or
 * removed). Run it when gitleaks publishes a new config, to see what to add:
 *
 *   tsx scripts/redact-upstream.ts path/to/gitleaks/config/gitleaks.toml
 *
 * The file is read where it is; it is not copied into this repository. Exits 1 when one of our
 * references is gone upstream, 0 otherwise (uncovered rules are information, not an error: many
 * are provider-named keys that the generic key/value rule already covers).
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { AWS_SECRET_ENTROPY, K8S_SECRET } from "../src/lib/redact/detectors.ts";
import { GENERIC_RULES } from "../src/lib/redact/generic.ts";
import { AWS_SECRET_AFTER_NAME, TOKEN_RULES } from "../src/lib/redact/rules.ts";

const file = process.argv[2];
if (!file) {
  console.error("usage: tsx scripts/redact-upstream.ts path/to/gitleaks.toml");
  process.exit(2);
}

/** The `id` of every `[[rules]]` table (gitleaks.toml is generated, one `id = "…"` line per rule). */
function upstreamIds(toml: string): string[] {
  const ids: string[] = [];
  let inRule = false;
  for (const line of toml.split("\n")) {
    if (/^\s*\[\[rules\]\]\s*$/.test(line)) inRule = true;
    else if (/^\s*\[/.test(line)) inRule = false;
    const id = inRule ? /^\s*id\s*=\s*"([^"]+)"/.exec(line) : null;
    if (id) ids.push(id[1]);
  }
  return ids;
}

const upstream = new Set(upstreamIds(readFileSync(file, "utf8")));
const ours = [...TOKEN_RULES, AWS_SECRET_AFTER_NAME, ...GENERIC_RULES, K8S_SECRET, AWS_SECRET_ENTROPY];
const followed = new Set(ours.flatMap((r) => r.upstream).filter((u) => u.startsWith("gitleaks:")).map((u) => u.slice("gitleaks:".length)));

const gone = [...followed].filter((id) => !upstream.has(id)).sort();
const uncovered = [...upstream].filter((id) => !followed.has(id)).sort();
console.log(`${upstream.size} upstream rules; ${upstream.size - uncovered.length} followed by a rule of ours`);
if (uncovered.length) console.log(`not followed (${uncovered.length}): ${uncovered.join(", ")}`);
if (gone.length) console.log(`referenced here but gone upstream (${gone.length}): ${gone.join(", ")}`);
process.exit(gone.length ? 1 : 0);
