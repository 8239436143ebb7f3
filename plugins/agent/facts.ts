/**
 * Host facts the model gets so its commands fit the target: OS, distribution, package manager,
 * init system, container runtimes. Gathered once per host with read-only commands through the
 * gate (only those the policy auto-allows are run; nothing is ever asked), cached for a day in
 * the data dir (`agent/host-facts.json`).
 */
import { join } from "node:path";
import type { ActionResult, Actions } from "../../src/kernel/index.ts";
import { atomicWrite } from "../../src/lib/atomic-write.ts";
import { readBoundedText } from "../../src/lib/bounded-read.ts";

export const FACTS_TTL_MS = 24 * 3600_000;

export interface HostFacts {
  os?: string;
  distro?: string;
  distroId?: string;
  version?: string;
  kernel?: string;
  arch?: string;
  packageManager?: string;
  init?: string;
  containerRuntimes: string[];
  gatheredAt: string;
}

const COMMANDS = {
  osRelease: "cat /etc/os-release",
  uname: "uname -srm",
  init: "cat /proc/1/comm",
  tools: "which apt-get dnf yum apk pacman zypper systemctl rc-service docker podman nerdctl",
} as const;

const PKG = ["apt-get", "dnf", "yum", "apk", "pacman", "zypper"];
const RUNTIMES = ["docker", "podman", "nerdctl"];

type Cache = Record<string, HostFacts>;

function cacheFile(dataDir: string): string {
  return join(dataDir, "agent", "host-facts.json");
}

function readCache(dataDir: string): Cache {
  try {
    const data = JSON.parse(readBoundedText(cacheFile(dataDir), { maxBytes: 1024 * 1024 }) ?? "{}") as Cache;
    return typeof data === "object" && data !== null ? data : {};
  } catch {
    return {};
  }
}

export interface FactsOptions {
  actions: Pick<Actions, "run" | "preview">;
  dataDir: string;
  /** Cache key part: the address, so a reused id on another host is not mistaken for it. */
  address: string;
  conversation?: string;
  signal?: AbortSignal;
  now?: number;
}

/** The facts of `server`: from the cache when younger than a day, else gathered (and cached). */
export async function hostFacts(server: string, options: FactsOptions): Promise<HostFacts> {
  const now = options.now ?? Date.now();
  const key = `${server}@${options.address}`;
  const cached = readCache(options.dataDir)[key];
  if (cached && now - Date.parse(cached.gatheredAt) < FACTS_TTL_MS) return cached;
  const entries = await Promise.all(
    Object.entries(COMMANDS).map(async ([name, command]) => {
      const request = { kind: "exec" as const, target: server, command, origin: "ai" as const, actor: "opsterm:host-facts", conversation: options.conversation };
      // Only what the policy lets run unasked: facts are never worth a question.
      const preview = await options.actions.preview(request);
      if (preview.verdict.decision !== "auto-allow") return [name, undefined] as const;
      const result: ActionResult = await options.actions.run(request, { signal: options.signal, io: { timeoutMs: 15_000, maxCapture: 64 * 1024 } });
      return [name, result.attempted ? (result.stdout ?? "") : undefined] as const;
    }),
  );
  const out = Object.fromEntries(entries) as Partial<Record<keyof typeof COMMANDS, string>>;
  const facts = parseFacts(out, new Date(now).toISOString());
  const cache = readCache(options.dataDir);
  cache[key] = facts;
  await atomicWrite(cacheFile(options.dataDir), JSON.stringify(cache) + "\n").catch(() => undefined);
  return facts;
}

export function parseFacts(out: Partial<Record<keyof typeof COMMANDS, string>>, gatheredAt: string): HostFacts {
  const release: Record<string, string> = {};
  for (const line of (out.osRelease ?? "").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) release[m[1]] = m[2].replace(/^["']|["']$/g, "");
  }
  const [os, kernel, arch] = (out.uname ?? "").trim().split(/\s+/);
  const found = new Set((out.tools ?? "").split("\n").map((l) => l.trim().split("/").pop()!).filter(Boolean));
  const pkg = PKG.find((p) => found.has(p));
  const init = (out.init ?? "").trim() || undefined;
  return {
    ...(os ? { os } : {}),
    ...(release.PRETTY_NAME || release.NAME ? { distro: release.PRETTY_NAME || release.NAME } : {}),
    ...(release.ID ? { distroId: release.ID } : {}),
    ...(release.VERSION_ID ? { version: release.VERSION_ID } : {}),
    ...(kernel ? { kernel } : {}),
    ...(arch ? { arch } : {}),
    ...(pkg ? { packageManager: pkg === "apt-get" ? "apt" : pkg } : {}),
    ...(init ? { init: init === "systemd" || (found.has("systemctl") && init === "init") ? "systemd" : init } : {}),
    containerRuntimes: RUNTIMES.filter((r) => found.has(r)),
    gatheredAt,
  };
}

/** One line for the model. */
export function describeFacts(server: string, f: HostFacts): string {
  const parts = [
    f.distro ?? f.os,
    f.kernel && `kernel ${f.kernel}`,
    f.arch,
    f.packageManager && `packages: ${f.packageManager}`,
    f.init && `init: ${f.init}`,
    `containers: ${f.containerRuntimes.length ? f.containerRuntimes.join(", ") : "none found"}`,
  ].filter(Boolean);
  return `${server}: ${parts.join("; ")}`;
}
