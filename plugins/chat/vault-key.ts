/**
 * An API key written as `${vault:NAME}` (`providers.x.apiKey`, `ai.api_key`): fetched from the
 * vault service when the key is needed. Only the global config may point a vault value at a
 * server: when the key, or the provider's baseUrl/preset, comes from a workspace config, the
 * value is not fetched (a trusted project still must not pull the vault into a URL it chose).
 */
import { ConfigError, type PluginContext } from "../../src/kernel/index.ts";

export interface VaultKeySource {
  kind: "vault";
  name: string;
  /** The config key that holds the reference, e.g. `providers.openai.apiKey`. */
  from: string;
}

/** The source for a config value that is exactly one reference, else undefined (a literal key). */
export function vaultKeySource(value: string, from: string): VaultKeySource | undefined {
  const m = /^\$\{vault:([A-Za-z0-9_.-]{1,128})\}$/.exec(value.trim());
  return m ? { kind: "vault", name: m[1], from } : undefined;
}

/** Config keys that decide where the key is sent, besides the key itself. */
function destinationKeys(from: string): string[] {
  if (from.startsWith("ai.")) return ["ai.api_key", "ai.api_url"];
  const entry = from.slice(0, from.lastIndexOf("."));
  return [from, `${entry}.baseUrl`, `${entry}.api_url`, `${entry}.preset`];
}

export async function resolveVaultKey(ctx: Pick<PluginContext, "config" | "tryUse">, source: VaultKeySource): Promise<string> {
  const config = await ctx.config();
  const keys = destinationKeys(source.from);
  const local = keys.find((key) => config.scopeOf(key) === "workspace");
  if (local) {
    throw new ConfigError("E_CHAT_VAULT_SCOPE", `${source.from} takes its key from the vault, but ${local} is set by the workspace config; a vault value goes only where the global config sends it`, {
      hint: `Remove ${local} from the workspace config, or set the key there another way`,
    });
  }
  const vault = ctx.tryUse("vault");
  if (!vault) throw new ConfigError("E_VAULT_MISSING", `${source.from} refers to the vault, but no vault plugin is loaded`, { hint: 'Run "opsterm doctor" to see which plugins failed to load' });
  try {
    return await vault.get(source.name);
  } catch (error) {
    if ((error as { code?: string }).code !== "E_VAULT_UNKNOWN") throw error;
    throw new ConfigError("E_CHAT_VAULT_KEY", `${source.from} refers to "${source.name}", which is not in the vault`, { hint: `Add it: opsterm vault set ${source.name}` });
  }
}
