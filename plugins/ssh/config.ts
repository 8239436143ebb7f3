/**
 * The `ssh.*` config keys. Kept apart from settings.ts, which reads them, so loading the plugin
 * (every `opsterm` run, `--help` included) does not load the inventory and known_hosts code.
 */
import type { SchemaNode } from "../../src/kernel/index.ts";

export const SSH_CONFIG: Record<string, SchemaNode> = {
  ssh: {
    type: "object",
    description: "SSH connections",
    properties: {
      // Global-only: which host keys are trusted is never a workspace's to decide.
      knownHosts: { type: "string", globalOnly: true, description: "known_hosts file (default ~/.ssh/known_hosts; env OPSTERM_KNOWN_HOSTS wins; global config only)" },
      hostKeys: { type: "string", enum: ["ask", "accept-new", "strict"], globalOnly: true, description: "Unknown host keys: ask on a TTY (refuse without), accept-new, or strict (global config only)" },
      hashKnownHosts: { type: "boolean", description: "Write new known_hosts entries hashed (default: HashKnownHosts from ~/.ssh/config, else /etc/ssh/ssh_config)" },
      connectTimeout: { type: "number", min: 0.1, description: "Seconds to connect and log in, per hop (default 10)" },
      parallel: { type: "number", integer: true, min: 1, max: 1024, description: "Hosts at once for exec fan-out (default 32)" },
    },
  },
};
