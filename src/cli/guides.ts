/**
 * The guides (docs/*.md) inside the binary: `opsterm help TOPIC`. build.ts stores them as one
 * JSON asset (guides.json), read only when a guide is asked for; from source they are read from
 * docs/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundledAsset } from "../lib/bundled-asset.ts";

export const GUIDES_ASSET = "guides.json";

let cache: Record<string, string> | undefined;

/** Topic name (the file name without .md) → its markdown. */
export function guides(): Record<string, string> {
  if (cache) return cache;
  const bundled = bundledAsset(GUIDES_ASSET);
  if (bundled) return (cache = JSON.parse(bundled.toString("utf8")) as Record<string, string>);
  const dir = fileURLToPath(new URL("../../docs/", import.meta.url));
  cache = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) cache[name.slice(0, -3)] = readFileSync(dir + name, "utf8");
  return cache;
}

/** The first heading of each guide, for the list. */
export function guideTitles(): [string, string][] {
  return Object.entries(guides()).map(([name, text]) => [name, /^#\s+(.+)$/m.exec(text)?.[1] ?? name]);
}

/**
 * A guide as printed: links between guides (`[ssh.md](ssh.md)`, `docs/policy.md`) become the
 * command that shows them.
 */
export function renderGuide(text: string): string {
  return text
    .replace(/\[([^\]]+)\]\((?:docs\/)?([a-z-]+)\.md(#[^)]*)?\)/g, (_m, label: string, name: string) => `${label} ("opsterm help ${name}")`)
    .replace(/(?<![\w/])docs\/([a-z-]+)\.md/g, '"opsterm help $1"');
}
