/**
 * What the allow-list module still exports for other parts of the plugin: the middleware names
 * (approval with their own rule) and the secret-path test for file actions. The tools, their
 * option tables and checks are in tools.ts; path classes in paths.ts.
 */
import { devicePath, endlessPath, normalisePath, secretClass } from "./paths.ts";

export const MIDDLEWARE = new Set(["psql", "mysql", "mariadb", "redis-cli", "mongo", "mongosh", "kubectl", "docker", "podman", "helm", "aws", "gcloud", "az", "terraform", "ansible", "vault", "consul", "etcdctl", "nomad", "oc", "k9s", "crictl", "ctr", "nerdctl", "sqlite3", "cqlsh", "influx", "rabbitmqctl", "kafka-topics"]);

/** Why a path (or the part of a word after `=`) names a secret, a device or an endless stream; undefined when none. */
export function sensitivePath(word: string): string | undefined {
  for (const c of word.includes("=") ? [word, word.slice(word.indexOf("=") + 1)] : [word]) {
    const n = normalisePath(c);
    if (n.escapes) return "a file outside the working directory (the path climbs with ..)";
    const why = secretClass(n.path) ?? endlessPath(n.path) ?? (devicePath(n.path) ? "a device's raw data" : undefined);
    if (why) return why;
  }
  return undefined;
}
