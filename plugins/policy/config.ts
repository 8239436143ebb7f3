/**
 * The `policy.*` config keys. `policy.egress.allow` is global-only: a workspace may only make the
 * policy stricter, and an egress allow-list only ever relaxes it.
 */
import type { SchemaNode } from "../../src/kernel/index.ts";

export const POLICY_CONFIG: Record<string, SchemaNode> = {
  policy: {
    type: "object",
    description: "The command policy (rules live in policy.yaml; see \"opsterm help policy\")",
    properties: {
      egress: {
        type: "object",
        description: "Network egress of inspection commands (dig, host, nslookup, ping, getent hosts, traceroute)",
        properties: {
          allow: {
            type: "array",
            items: { type: "string" },
            globalOnly: true,
            description: 'Targets auto-allowed for DNS and ping tools: host globs ("*.internal") and CIDRs ("10.0.0.0/8"); everything else needs approval (global config only)',
          },
        },
      },
    },
  },
};

/** Reads `policy.egress.allow` as a list of strings; anything else (or a config that fails to load) is none. */
export async function egressAllow(load: () => Promise<{ get(key: string): unknown }>): Promise<string[]> {
  try {
    const value = (await load()).get("policy.egress.allow");
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v.trim() !== "") : [];
  } catch {
    // An unreadable config gives the stricter answer: no egress is auto-allowed.
    return [];
  }
}
