/**
 * What the original OpsTerm's settings become in opsterm: pure functions from the old files' data
 * (and what opsterm already has) to a list of changes, so `--dry-run` and the real run agree and
 * a second run finds nothing to do.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : typeof v === "number" ? String(v) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : undefined);

/** What the original used when config.yaml said nothing (its load_config defaults). */
export const ORIGINAL_DEFAULTS = { api_url: "https://api.deepseek.com/v1/chat/completions", model: "deepseek-chat" };

/** Provider names and server ids opsterm accepts. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const SERVER_ID = /^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/;

export interface ProviderImport {
  name: string;
  /** opsterm's keys for providers.NAME, without the key. */
  entry: { baseUrl?: string; model?: string; temperature?: number; maxTokens?: number };
  /** The literal API key the original had, if any (goes to the vault or, without one, the config). */
  apiKey?: string;
  /** Where in the old config it came from. */
  from: string;
}

export interface Note {
  key: string;
  text: string;
}

export interface ConfigPlan {
  /** Providers to add (absent from opsterm's config). */
  providers: ProviderImport[];
  /** Providers opsterm already has with the same URL and model. */
  same: string[];
  /** Providers opsterm has differently: kept as they are. */
  conflicts: Note[];
  /** Other values to set: dotted key → value (only keys absent from opsterm's config). */
  values: { key: string; value: unknown; from: string }[];
  /** Keys of the old config that opsterm has no use for, with why. */
  unused: Note[];
  /** Remarks (defaults filled in, masked keys …). */
  notes: Note[];
}

/** The base URL opsterm wants from the original's full `…/chat/completions` URL. */
export function baseUrlOf(apiUrl: string): string {
  return apiUrl.trim().replace(/\/+$/, "").replace(/\/chat\/completions$/, "");
}

function keyOf(v: unknown, from: string, notes: Note[]): string | undefined {
  const key = str(v);
  if (!key) return undefined;
  // What the original's `export` writes instead of a key.
  if (key.startsWith("__MASKED__")) {
    notes.push({ key: from, text: "a masked key from the original's export: set the real one with opsterm provider add … --api-key -" });
    return undefined;
  }
  return key;
}

const UNUSED: Record<string, string> = {
  "ai.response_style": "opsterm has no answer styles",
  shell: "opsterm asks before running what its policy does not allow (opsterm policy check); auto_exec_patterns and confirm_before_exec are not used",
  rtk: "opsterm does not use RTK; it bounds piped input by the model's context window",
  export_version: "export metadata",
  exported_at: "export metadata",
};

/**
 * The original's config.yaml → opsterm config changes. `current` is opsterm's global config file
 * as it is (its own keys, or the original's if it was copied there).
 */
export function planConfig(old: Obj, current: Obj): ConfigPlan {
  const plan: ConfigPlan = { providers: [], same: [], conflicts: [], values: [], unused: [], notes: [] };
  const ai = obj(old.ai);
  const providers = obj(old.providers);
  const currentProviders = obj(current.providers);
  const temperature = num(ai.temperature);
  const maxTokens = num(ai.max_tokens);

  const wantProvider = (name: string, raw: Obj, from: string) => {
    const entry: ProviderImport["entry"] = {};
    const url = str(raw.api_url);
    if (url) entry.baseUrl = baseUrlOf(url);
    const model = str(raw.model);
    if (model) entry.model = model;
    // The original applied ai.temperature / ai.max_tokens to whichever provider was active.
    const t = num(raw.temperature) ?? temperature;
    if (t !== undefined && t >= 0 && t <= 2) entry.temperature = t;
    const m = num(raw.max_tokens) ?? maxTokens;
    if (m !== undefined && Number.isInteger(m) && m >= 1) entry.maxTokens = m;
    const apiKey = keyOf(raw.api_key, `${from}.api_key`, plan.notes);
    let target = name;
    if (!NAME.test(target)) {
      target = name.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[^A-Za-z0-9_]+/, "").slice(0, 64) || "original";
      plan.notes.push({ key: from, text: `provider "${name}" is named "${target}" in opsterm (letters, digits, "_", ".", "-")` });
    }
    const existing = obj(currentProviders[target]);
    if (Object.keys(existing).length > 0) {
      const existingUrl = str(existing.baseUrl) ?? str(existing.api_url);
      const sameUrl = entry.baseUrl === undefined || (existingUrl !== undefined && baseUrlOf(existingUrl) === entry.baseUrl);
      const sameModel = entry.model === undefined || str(existing.model) === entry.model;
      if (sameUrl && sameModel) plan.same.push(target);
      else plan.conflicts.push({ key: `providers.${target}`, text: `opsterm already has a provider "${target}" (${existingUrl ?? "no URL"}, ${str(existing.model) ?? "no model"}): kept it, not the original's (${entry.baseUrl ?? "?"}, ${entry.model ?? "?"})` });
      return target;
    }
    plan.providers.push({ name: target, entry, apiKey, from });
    return target;
  };

  const renamed = new Map<string, string>();
  for (const [name, raw] of Object.entries(providers)) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      plan.unused.push({ key: `providers.${name}`, text: "not a mapping of api_url, api_key, model" });
      continue;
    }
    const r = obj(raw);
    // What the original's init writes: an empty key for DeepSeek, never filled in.
    if (!keyOf(r.api_key, `providers.${name}.api_key`, []) && name === "default" && str(r.api_url) === ORIGINAL_DEFAULTS.api_url && Object.keys(providers).length > 1 && str(old.default_provider) !== "default") {
      plan.unused.push({ key: "providers.default", text: "the placeholder the original's init writes (no API key); not needed" });
      continue;
    }
    for (const k of Object.keys(r)) if (!["api_url", "api_key", "model", "temperature", "max_tokens"].includes(k)) plan.unused.push({ key: `providers.${name}.${k}`, text: "not a provider setting opsterm knows" });
    renamed.set(name, wantProvider(name, r, `providers.${name}`));
  }

  // The default: default_provider, else ai.provider when it names a provider (as load_config did).
  const currentDefault = str(obj(current.chat).provider) ?? str(current.default_provider);
  const defaultName = str(old.default_provider) ?? (str(ai.provider) && str(ai.provider)! in providers ? str(ai.provider) : undefined);
  const activeName = defaultName && renamed.has(defaultName) ? renamed.get(defaultName) : undefined;
  if (defaultName && !activeName) plan.notes.push({ key: "default_provider", text: `names "${defaultName}", which is not among the providers` });

  // ai.api_url / api_key / model without a provider that overrides them: the ai block was the provider.
  const aiHasProvider = str(ai.api_url) || str(ai.api_key) || str(ai.model);
  let aiProvider: string | undefined;
  if (aiHasProvider && !activeName) {
    const label = str(ai.provider);
    const name = label && NAME.test(label) && !(label in providers) ? label : Object.keys(providers).length === 0 ? "default" : "ai-original";
    const raw: Obj = { api_url: str(ai.api_url), api_key: ai.api_key, model: str(ai.model) };
    if (!str(ai.api_url)) {
      raw.api_url = ORIGINAL_DEFAULTS.api_url;
      plan.notes.push({ key: "ai.api_url", text: `not set: the original used ${ORIGINAL_DEFAULTS.api_url}, so does the migrated provider "${name}"` });
    }
    if (!str(ai.model)) raw.model = ORIGINAL_DEFAULTS.model;
    aiProvider = wantProvider(name, raw, "ai");
  } else if (aiHasProvider) {
    for (const k of ["api_url", "api_key", "model"]) if (ai[k] !== undefined && str(ai[k])) plan.unused.push({ key: `ai.${k}`, text: `the original used provider "${defaultName}" instead (its values win over ai.*)` });
  }
  const chosen = activeName ?? aiProvider;
  // Without an explicit default, opsterm uses the first provider it has: a migration must not switch it.
  const currentAi = obj(current.ai);
  const currentImplicit = !currentDefault && (Object.keys(currentProviders)[0] ?? (str(currentAi.api_url) || str(currentAi.api_key) || str(currentAi.model) ? "ai" : undefined));
  if (chosen && currentImplicit && currentImplicit !== chosen) {
    plan.conflicts.push({ key: "chat.provider", text: `opsterm already uses provider "${currentImplicit}": kept it as the default (opsterm provider default ${chosen} switches)` });
  } else if (chosen) {
    if (!currentDefault) plan.values.push({ key: "chat.provider", value: chosen, from: activeName ? (str(old.default_provider) ? "default_provider" : "ai.provider") : "ai" });
    else if (currentDefault !== chosen) plan.conflicts.push({ key: "chat.provider", text: `opsterm's default provider is "${currentDefault}": kept it (the original's was "${chosen}")` });
  }
  if (str(ai.provider) && !(str(ai.provider)! in providers) && aiProvider !== str(ai.provider)) {
    plan.unused.push({ key: "ai.provider", text: "a label only (it names no provider)" });
  }

  const systemPrompt = str(ai.system_prompt);
  if (systemPrompt) {
    const existing = str(obj(current.ai).system_prompt);
    if (!existing) plan.values.push({ key: "ai.system_prompt", value: typeof ai.system_prompt === "string" ? ai.system_prompt : systemPrompt, from: "ai.system_prompt" });
    else if (existing !== systemPrompt) plan.conflicts.push({ key: "ai.system_prompt", text: "opsterm has its own ai.system_prompt: kept it" });
  }

  const known = new Set(["provider", "api_url", "api_key", "model", "temperature", "max_tokens", "system_prompt"]);
  for (const k of Object.keys(ai)) {
    if (known.has(k)) continue;
    plan.unused.push({ key: `ai.${k}`, text: UNUSED[`ai.${k}`] ?? "not a setting opsterm knows" });
  }
  if ((temperature !== undefined || maxTokens !== undefined) && plan.providers.length === 0 && plan.same.length === 0 && !aiProvider) {
    plan.unused.push({ key: "ai.temperature/max_tokens", text: "no provider to apply them to" });
  }
  for (const k of Object.keys(old)) {
    if (["ai", "providers", "default_provider"].includes(k)) continue;
    plan.unused.push({ key: k, text: UNUSED[k] ?? "not a setting opsterm knows" });
  }
  return plan;
}

export interface ServerImport {
  id: string;
  entry: Record<string, unknown>;
  /** The id in the old file, when it had to change. */
  renamedFrom?: string;
}

export interface ServersPlan {
  add: ServerImport[];
  /** Ids opsterm already has with the same address. */
  same: string[];
  /** Ids opsterm has with another address: kept. */
  conflicts: Note[];
  /** Entries left out, with why. */
  skipped: Note[];
  notes: Note[];
}

/** What the original's init writes as an example. */
const PLACEHOLDER_HOSTS = new Set(["your-server-ip"]);
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /^-|[\s\x00-\x1f\x7f]/;

function sanitizeId(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9_.@-]/g, "-").replace(/^[^A-Za-z0-9_]+/, "");
  return clean || "server";
}

/**
 * The original's servers.yaml (`servers:` as a mapping of name → entry, or as a list of entries
 * with `name:`; a bare list works too) → entries for opsterm's servers.yaml. `current` is opsterm's
 * global `servers:` mapping.
 */
export function planServers(old: unknown, current: Obj): ServersPlan {
  const plan: ServersPlan = { add: [], same: [], conflicts: [], skipped: [], notes: [] };
  const root = Array.isArray(old) ? old : obj(old).servers;
  const list: { name: string; raw: Obj; at: string }[] = [];
  if (Array.isArray(root)) {
    root.forEach((item, i) => {
      const raw = obj(item);
      const name = str(raw.name) ?? str(raw.id);
      if (!name) plan.skipped.push({ key: `servers[${i}]`, text: "no name:" });
      else list.push({ name, raw, at: `servers[${i}]` });
    });
  } else {
    for (const [name, item] of Object.entries(obj(root))) list.push({ name, raw: obj(item), at: `servers.${name}` });
  }
  const oldNames = list.map((s) => s.name);
  const ids = new Map<string, string>();
  const taken = new Set(Object.keys(current));
  for (const { name } of list) {
    let id = SERVER_ID.test(name) ? name : sanitizeId(name);
    if (id !== name) {
      let n = 2;
      const base = id;
      while (ids.has(id) || (oldNames.includes(id) && id !== name)) id = `${base}-${n++}`;
    }
    ids.set(name, id);
  }
  // The original looked proxies up by exact name, else by a unique substring.
  const resolveProxy = (p: string): string | undefined => {
    if (oldNames.includes(p)) return p;
    const matches = oldNames.filter((n) => n.includes(p));
    return matches.length === 1 ? matches[0] : undefined;
  };
  const wanted: ServerImport[] = [];
  const dropped = new Set<string>();
  for (const { name, raw, at } of list) {
    const id = ids.get(name)!;
    const host = str(raw.host);
    if (!host) {
      plan.skipped.push({ key: at, text: `"${name}" has no host` });
      dropped.add(name);
      continue;
    }
    if (PLACEHOLDER_HOSTS.has(host)) {
      plan.skipped.push({ key: at, text: `"${name}" is the example the original's init writes (host ${host})` });
      dropped.add(name);
      continue;
    }
    if (BAD_VALUE.test(host)) {
      plan.skipped.push({ key: at, text: `"${name}": host ${JSON.stringify(host)} holds spaces or starts with "-"` });
      dropped.add(name);
      continue;
    }
    const entry: Record<string, unknown> = { host };
    // The original logged in as root when no user was given.
    const user = str(raw.user) ?? "root";
    if (BAD_VALUE.test(user)) {
      plan.skipped.push({ key: at, text: `"${name}": user ${JSON.stringify(user)} holds spaces or starts with "-"` });
      dropped.add(name);
      continue;
    }
    entry.user = user;
    if (raw.port !== undefined && raw.port !== null && raw.port !== "") {
      const port = num(raw.port);
      if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
        plan.skipped.push({ key: at, text: `"${name}": port ${JSON.stringify(raw.port)} is not 1-65535` });
        dropped.add(name);
        continue;
      }
      if (port !== 22) entry.port = port;
    }
    const key = str(raw.key);
    if (key) entry.key = key;
    const desc = str(raw.desc) ?? str(raw.description);
    if (desc) entry.desc = desc;
    if (Array.isArray(raw.tags)) entry.tags = raw.tags.map(String);
    if (raw.proxy !== undefined && raw.proxy !== null && raw.proxy !== "") {
      if (typeof raw.proxy === "object" && !Array.isArray(raw.proxy)) {
        // An inline jump host (README): it becomes a server of its own.
        const p = obj(raw.proxy);
        const pHost = str(p.host);
        if (!pHost || BAD_VALUE.test(pHost)) plan.notes.push({ key: `${at}.proxy`, text: `"${name}": the inline jump host has no usable host; connecting directly` });
        else {
          let jumpId = `${id}-jump`;
          for (let n = 2; ids.has(jumpId) || [...ids.values()].includes(jumpId) || wanted.some((w) => w.id === jumpId); n++) jumpId = `${id}-jump${n}`;
          const jump: Record<string, unknown> = { host: pHost, user: str(p.user) ?? "root" };
          const pPort = num(p.port);
          if (pPort !== undefined && pPort !== 22 && Number.isInteger(pPort) && pPort >= 1 && pPort <= 65535) jump.port = pPort;
          if (str(p.key)) jump.key = str(p.key);
          jump.desc = `jump host of ${id} (from the original OpsTerm)`;
          wanted.push({ id: jumpId, entry: jump });
          entry.proxy = jumpId;
          plan.notes.push({ key: `${at}.proxy`, text: `"${name}": its inline jump host is the server "${jumpId}"` });
        }
      } else {
        const names = (Array.isArray(raw.proxy) ? raw.proxy.map(String) : String(raw.proxy).split(",")).map((s) => s.trim()).filter(Boolean);
        const resolved: string[] = [];
        for (const p of names) {
          const hit = resolveProxy(p);
          if (hit) resolved.push(ids.get(hit)!);
          else if (Object.prototype.hasOwnProperty.call(current, p)) resolved.push(p);
          else plan.notes.push({ key: `${at}.proxy`, text: `"${name}": proxy "${p}" is no server of the original's; left out` });
        }
        if (resolved.length) entry.proxy = resolved.length === 1 ? resolved[0] : resolved;
      }
    }
    for (const k of Object.keys(raw)) {
      if (!["name", "id", "host", "user", "port", "key", "desc", "description", "tags", "proxy"].includes(k)) plan.notes.push({ key: `${at}.${k}`, text: "not a server setting opsterm knows; left out" });
    }
    wanted.push({ id, entry, renamedFrom: id !== name ? name : undefined });
  }
  // A proxy naming a server that was left out: connect directly (say so) rather than write a broken file.
  const droppedIds = new Set([...dropped].map((n) => ids.get(n)!));
  for (const w of wanted) {
    const proxies = w.entry.proxy === undefined ? [] : Array.isArray(w.entry.proxy) ? (w.entry.proxy as string[]) : [w.entry.proxy as string];
    const kept = proxies.filter((p) => !droppedIds.has(p) || taken.has(p));
    if (kept.length !== proxies.length) {
      plan.notes.push({ key: `servers.${w.id}.proxy`, text: `"${w.id}": its jump host was left out, so it is reached directly; fix with opsterm servers edit ${w.id} --proxy …` });
      if (kept.length === 0) delete w.entry.proxy;
      else w.entry.proxy = kept.length === 1 ? kept[0] : kept;
    }
  }
  for (const w of wanted) {
    if (w.renamedFrom) plan.notes.push({ key: `servers.${w.renamedFrom}`, text: `"${w.renamedFrom}" is "${w.id}" in opsterm (ids: letters, digits, "_", ".", "@", "-")` });
    const existing = current[w.id];
    if (existing !== undefined) {
      const e = obj(existing);
      const same = str(e.host) === w.entry.host && (num(e.port) ?? 22) === ((w.entry.port as number | undefined) ?? 22) && (str(e.user) ?? w.entry.user) === w.entry.user;
      if (same) plan.same.push(w.id);
      else plan.conflicts.push({ key: `servers.${w.id}`, text: `opsterm already has "${w.id}" (${str(e.user) ?? "?"}@${str(e.host) ?? "?"}:${num(e.port) ?? 22}): kept it, not ${w.entry.user}@${w.entry.host}:${(w.entry.port as number | undefined) ?? 22}` });
      continue;
    }
    plan.add.push(w);
  }
  return plan;
}

/** One row of the original's history → an opsterm history event. */
export interface HistoryRecord {
  id: string;
  ts: number;
  event: Record<string, unknown> & { mode: string };
}

/**
 * The original's modes: ai and pipe (a question, with output piped in), chat, shell (a suggested
 * command run here), ssh / connect (a session), scp, workflow.
 */
export function historyRecord(row: { id: number; timestamp: string; mode: string; input: string; output: string }, hash: (text: string) => string): HistoryRecord {
  const ts = parseTimestamp(row.timestamp);
  const base = { imported: "opsterm-original", originalId: row.id, originalMode: row.mode };
  const id = `orig-${hash(`${row.id}\u0000${row.timestamp}\u0000${row.mode}\u0000${row.input}`)}`;
  let event: HistoryRecord["event"];
  switch (row.mode) {
    case "ai":
    case "pipe":
    case "chat":
      event = { mode: row.mode === "pipe" ? "pipe" : "ask", question: row.input, answer: row.output, ...base };
      break;
    case "shell":
      event = { mode: "exec", command: row.input, ...base };
      break;
    case "ssh":
    case "connect": {
      const server = /^(?:ssh|connect)\s+(\S+)/.exec(row.input)?.[1];
      event = { mode: "session", input: row.input, ...(server ? { server } : {}), ...base };
      break;
    }
    case "scp":
      event = { mode: "transfer", input: row.input, ...base };
      break;
    case "workflow":
      event = { mode: "workflow", input: row.input, ...base };
      break;
    default:
      event = { mode: row.mode || "event", input: row.input, ...(row.output ? { output: row.output } : {}), ...base };
  }
  return { id, ts, event };
}

/** The original stored `datetime('now','localtime')`: "YYYY-MM-DD HH:MM:SS" in this machine's time zone. */
export function parseTimestamp(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text.trim());
  if (!m) {
    const t = Date.parse(text);
    return Number.isFinite(t) ? t : 0;
  }
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
}
