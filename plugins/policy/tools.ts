/**
 * The allow-list: inspection tools, each with its full option table (real arity, refused
 * options marked with why), how it reads its operands, and the semantic checks the issue
 * classes need (recursion, egress, commands that never end, devices, secrets in unit files).
 *
 * `checkTool(name, args)` answers with a finding (why not auto-allowed) or none, the argv in
 * normal form (canonical option names, values split off, paths normalised: what user rules
 * match), and explain lines naming the table entries that decided.
 */
import { DENY_CLASS, describeDef, matchValue, parseArgs, table, type Parsed, type ParsedOpt, type Table, type TableSpec } from "./options.ts";
import { logTree, looksLikePath, normalisePath, pathFinding, secretClass } from "./paths.ts";

export interface Finding {
  rule: string;
  reason: string;
  /** The option table entry or rule text that decided (shown by --explain). */
  entry?: string;
}

export interface ToolContext {
  /** `policy.egress.allow` from the global config: host globs and CIDRs. */
  egress: readonly string[];
}

export interface ToolResult {
  finding?: Finding;
  /** argv in normal form (user rules match it). */
  normal: string[];
  explain: string[];
}

type Role = "content" | "names" | "none";
type ValueRule = readonly string[] | ((v: string) => string | undefined);

interface Tool {
  spec?: TableSpec;
  /** How operands are read: printed/compared (content), only named (names), not paths (none). */
  role: Role;
  values?: Record<string, ValueRule>;
  maxOperands?: number;
  /** Operands that are paths (default: all). */
  paths?: (p: Parsed) => string[];
  /** Extra semantics after the options were read. */
  check?: (p: Parsed, ctx: ToolContext) => Finding | undefined;
  /** Tools that do not use getopt: the whole judgement. */
  custom?: (args: string[], ctx: ToolContext) => Finding | undefined;
  /** Operand globs (`/var/log/*`) are accepted for this tool (names-only tools, and content under /var/log). */
  globs?: boolean;
}

const COLOR = ["always", "yes", "force", "never", "no", "none", "auto", "tty", "if-tty"];
const NUM = /^\d{1,9}$/;
const num = (max: number) => (v: string) => (NUM.test(v) && Number(v) <= max ? undefined : `must be a number up to ${max}`);
const has = (p: Parsed, ...names: string[]) => p.opts.some((o) => names.includes(o.def.canonical));
const valueOf = (p: Parsed, ...names: string[]) => p.opts.filter((o) => names.includes(o.def.canonical)).map((o) => o.value);

const GREP_OPTS =
  "E,extended-regexp F,fixed-strings G,basic-regexp P,perl-regexp e,regexp= f,file= i,ignore-case y ,no-ignore-case w,word-regexp x,line-regexp z,null-data s,no-messages v,invert-match V,version ,help m,max-count= b,byte-offset n,line-number ,line-buffered H,with-filename h,no-filename ,label= o,only-matching q,quiet ,silent ,binary-files= a,text I d,directories= D,devices= r,recursive R,dereference-recursive ,include= ,exclude= ,exclude-from= ,exclude-dir= L,files-without-match l,files-with-matches c,count T,initial-tab Z,null B,before-context= A,after-context= C,context= ,group-separator= ,no-group-separator ,color? ,colour? U,binary";
const GREP_VALUES: Record<string, ValueRule> = { "--directories": ["read", "skip", "recurse"], "--devices": ["read", "skip"], "--binary-files": ["binary", "text", "without-match"], "--color": COLOR, "--colour": COLOR };
const SUMS = "b,binary c,check ,tag t,text z,zero ,ignore-missing ,quiet ,status ,strict w,warn ,help ,version";
const HEAD = "c,bytes= n,lines= q,quiet ,silent v,verbose z,zero-terminated ,help ,version";

/** grep's pattern is its first operand unless -e/-f give it. */
const grepPaths = (p: Parsed) => (has(p, "--regexp", "--file", "-e", "-f") ? p.operands : p.operands.slice(1));

function grepRecursion(p: Parsed): Finding | undefined {
  // -f/--file and --exclude-from read a file whatever its name looks like (`grep -f shadow x`).
  for (const o of p.opts) {
    if (o.value !== undefined && /^(--file|-f|--exclude-from)$/.test(o.def.canonical)) {
      const f = pathFinding(o.value, true);
      if (f) return f;
    }
  }
  const dirs = valueOf(p, "--directories");
  const recursive = has(p, "--recursive", "--dereference-recursive") || dirs.includes("recurse");
  const devices = valueOf(p, "--devices");
  void devices;
  if (!recursive) return undefined;
  const paths = grepPaths(p);
  const entry = "grep -r, -R, -d recurse, --directories=recurse: a recursive read; every file below the start is read like a direct read";
  if (paths.length === 0) return { rule: "approval.recursive-read", reason: "recursive grep of the working directory (a home holds ~/.ssh, .env files)", entry };
  const outside = paths.find((x) => !logTree(normalisePath(x).path) || normalisePath(x).escapes);
  return outside === undefined ? undefined : { rule: "approval.recursive-read", reason: `recursive grep over ${outside} reads every file below it (keys, .env files); only /var/log is auto-allowed`, entry };
}

const countedInterval = (maxTotal: number) => (ops: string[]): Finding | undefined => {
  const entry = `interval and count: both needed, interval × count ≤ ${maxTotal} s`;
  if (ops.length === 0) return undefined;
  if (ops.length === 2 && NUM.test(ops[0]) && NUM.test(ops[1]) && Number(ops[0]) >= 1 && Number(ops[1]) >= 1 && Number(ops[0]) * Number(ops[1]) <= maxTotal) return undefined;
  if (ops.length === 1 && NUM.test(ops[0])) return { rule: "approval.never-ends", reason: "an interval without a count never ends", entry };
  return { rule: "approval.never-ends", reason: `interval and count must be numbers with interval × count ≤ ${maxTotal} s`, entry };
};

/** Egress: a name or address the command sends packets or DNS queries to. */
export function egressAllowed(target: string, allow: readonly string[]): boolean {
  const t = target.toLowerCase().replace(/\.$/, "");
  for (const rule of allow) {
    const r = rule.toLowerCase().trim();
    if (r.includes("/")) {
      if (inCidr(t, r)) return true;
      continue;
    }
    if (r === t) return true;
    if (r.includes("*")) {
      const re = new RegExp(`^${r.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[a-z0-9.-]*").replace(/\?/g, "[a-z0-9-]")}$`);
      if (re.test(t)) return true;
    }
  }
  return false;
}

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((x) => x > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

function ipv6(s: string): bigint | undefined {
  if (!/^[0-9a-f:]+$/.test(s) || !s.includes(":")) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(Math.max(0, fill)).fill("0"), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

export function inCidr(addr: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  const a4 = ipv4(addr);
  const n4 = ipv4(net);
  if (a4 !== undefined && n4 !== undefined && bits >= 0 && bits <= 32) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return ((a4 & mask) >>> 0) === ((n4 & mask) >>> 0);
  }
  const a6 = ipv6(addr);
  const n6 = ipv6(net);
  if (a6 !== undefined && n6 !== undefined && bits >= 0 && bits <= 128) {
    const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
    return (a6 & mask) === (n6 & mask);
  }
  return false;
}

function egress(tool: string, targets: string[], ctx: ToolContext): Finding | undefined {
  const entry = `${tool}: network egress; auto-allowed only for targets in policy.egress.allow (${ctx.egress.length ? ctx.egress.join(", ") : "empty"})`;
  if (targets.length === 0) return { rule: "approval.egress", reason: `${tool} without a target uses the system resolver or waits for input`, entry };
  const out = targets.find((t) => !egressAllowed(t, ctx.egress));
  if (out === undefined) return undefined;
  return { rule: "approval.egress", reason: `${tool} sends queries or packets to ${out} (a data channel out: DNS exfiltration); not in policy.egress.allow`, entry };
}

const TOOLS: Record<string, Tool> = {
  ls: {
    spec: { opts: "a,all A,almost-all ,author b,escape ,block-size= B,ignore-backups c C ,color? d,directory D,dired f F,classify? ,file-type ,format= ,full-time g ,group-directories-first G,no-group h,human-readable ,si H,dereference-command-line ,dereference-command-line-symlink-to-dir ,hide= ,hyperlink? p ,indicator-style= i,inode I,ignore= k,kibibytes l L,dereference m n,numeric-uid-gid N,literal o q,hide-control-chars ,show-control-chars Q,quote-name ,quoting-style= r,reverse R,recursive s,size S ,sort= ,time= ,time-style= t T,tabsize= u U v w,width= x X Z,context ,zero 1 ,help ,version" },
    role: "names",
    globs: true,
    values: { "--color": COLOR, "--hyperlink": COLOR, "--classify": COLOR, "--sort": ["none", "time", "size", "extension", "version", "width"], "--time": ["atime", "access", "use", "ctime", "status", "mtime", "modification", "birth", "creation"], "--format": ["verbose", "long", "commas", "horizontal", "across", "vertical", "single-column"], "--indicator-style": ["none", "slash", "file-type", "classify"], "--quoting-style": ["literal", "shell", "shell-always", "shell-escape", "shell-escape-always", "c", "escape", "locale", "clocale"] },
  },
  cat: { spec: { opts: "A,show-all b,number-nonblank e E,show-ends n,number s,squeeze-blank t T,show-tabs u v,show-nonprinting ,help ,version" }, role: "content", globs: true },
  tac: { spec: { opts: "b,before r,regex s,separator= ,help ,version" }, role: "content", globs: true },
  nl: { spec: { opts: "b,body-numbering= d,section-delimiter= f,footer-numbering= h,header-numbering= i,line-increment= l,join-blank-lines= n,number-format= p,no-renumber s,number-separator= v,starting-line-number= w,number-width= ,help ,version" }, role: "content", globs: true },
  head: { spec: { opts: HEAD, numeric: true }, role: "content", globs: true },
  tail: { spec: { opts: `${HEAD} f,follow?!f F!f ,retry!f ,max-unchanged-stats= ,pid= s,sleep-interval=`, numeric: true }, role: "content", globs: true },
  wc: { spec: { opts: "c,bytes m,chars l,lines ,files0-from=!s L,max-line-length w,words ,total= ,help ,version" }, role: "content", globs: true, values: { "--total": ["auto", "always", "only", "never"] } },
  stat: { spec: { opts: "L,dereference f,file-system ,cached= c,format= ,printf= t,terse ,help ,version" }, role: "names", globs: true, values: { "--cached": ["default", "never", "always"] } },
  file: {
    spec: { opts: ",help v,version m,magic-file=!s z,uncompress Z,uncompress-noreport b,brief c,checking-printout e,exclude= ,exclude-quiet= f,files-from=!s F,separator= i,mime ,mime-encoding ,apple ,extension ,mime-type k,keep-going l,list L,dereference h,no-dereference n,no-buffer N,no-pad 0,print0 p,preserve-date!w P,parameter= r,raw s,special-files!d S,no-sandbox C,compile!w d,debug" },
    role: "names",
    globs: true,
  },
  df: { spec: { opts: "a,all B,block-size= h,human-readable H,si i,inodes k l,local ,no-sync ,output? P,portability ,sync!w ,total t,type= T,print-type x,exclude-type= v ,help ,version" }, role: "names" },
  du: { spec: { opts: "0,null a,all ,apparent-size B,block-size= b,bytes c,total D,dereference-args d,max-depth= s,summarize ,files0-from=!s H h,human-readable ,inodes k L,dereference l,count-links m P,no-dereference S,separate-dirs ,si t,threshold= ,time? ,time-style= X,exclude-from=!s ,exclude= x,one-file-system ,help ,version" }, role: "names", globs: true },
  free: { spec: { opts: "b,bytes ,kilo ,mega ,giga ,tera ,peta k,kibi m,mebi g,gibi ,tebi ,pebi h,human ,si l,lohi t,total v,committed s,seconds=!f c,count=!f w,wide L,line ,help V,version" }, role: "none", maxOperands: 0 },
  uptime: { spec: { opts: "p,pretty h,help s,since V,version c,container r,raw" }, role: "none", maxOperands: 0 },
  uname: { spec: { opts: "a,all s,kernel-name n,nodename r,kernel-release v,kernel-version m,machine p,processor i,hardware-platform o,operating-system ,help ,version" }, role: "none", maxOperands: 0 },
  hostname: { spec: { opts: "a,alias A,all-fqdns b,boot!w d,domain f,fqdn ,long F,file!w i,ip-address I,all-ip-addresses s,short y,yp!w ,nis!w ,help V,version", abbrev: false }, role: "none", maxOperands: 0 },
  date: {
    spec: { opts: "d,date= ,debug f,file=!s I,iso-8601? R,rfc-email ,rfc-3339= r,reference= s,set=!w u,utc ,universal ,uct ,resolution ,help ,version" },
    role: "none",
    values: { "--iso-8601": ["hours", "minutes", "date", "seconds", "ns"], "--rfc-3339": ["date", "seconds", "ns"] },
    check: (p) => {
      for (const r of valueOf(p, "--reference")) {
        const f = r === undefined ? undefined : pathFinding(r, false);
        if (f) return f;
      }
      if (p.operands.length === 0 || (p.operands.length === 1 && p.operands[0].startsWith("+"))) return undefined;
      return { rule: "approval.option", reason: "date with an operand other than +FORMAT sets the clock", entry: "date operands: only one +FORMAT (MMDDhhmm sets the clock)" };
    },
  },
  pwd: { spec: { opts: "L,logical P,physical ,help ,version" }, role: "none", maxOperands: 0 },
  whoami: { spec: { opts: ",help ,version" }, role: "none", maxOperands: 0 },
  id: { spec: { opts: "a Z,context g,group G,groups n,name r,real u,user z,zero ,help ,version" }, role: "none", maxOperands: 1 },
  groups: { spec: { opts: ",help ,version" }, role: "none", maxOperands: 1 },
  nproc: { spec: { opts: ",all ,ignore= ,help ,version" }, role: "none", maxOperands: 0 },
  arch: { spec: { opts: ",help ,version" }, role: "none", maxOperands: 0 },
  true: { spec: { opts: "", abbrev: false }, role: "none", maxOperands: 0 },
  which: { spec: { opts: "a", abbrev: false }, role: "none" },
  basename: { spec: { opts: "a,multiple s,suffix= z,zero ,help ,version" }, role: "none" },
  dirname: { spec: { opts: "z,zero ,help ,version" }, role: "none" },
  realpath: { spec: { opts: "e,canonicalize-existing m,canonicalize-missing L,logical P,physical q,quiet ,relative-to= ,relative-base= s,strip ,no-symlinks z,zero ,help ,version" }, role: "names" },
  readlink: { spec: { opts: "f,canonicalize e,canonicalize-existing m,canonicalize-missing n,no-newline q,quiet s,silent v,verbose z,zero ,help ,version" }, role: "names" },
  md5sum: { spec: { opts: SUMS }, role: "content", globs: true },
  sha1sum: { spec: { opts: SUMS }, role: "content", globs: true },
  sha224sum: { spec: { opts: SUMS }, role: "content", globs: true },
  sha256sum: { spec: { opts: SUMS }, role: "content", globs: true },
  sha384sum: { spec: { opts: SUMS }, role: "content", globs: true },
  sha512sum: { spec: { opts: SUMS }, role: "content", globs: true },
  b2sum: { spec: { opts: `${SUMS} l,length=` }, role: "content", globs: true },
  cksum: { spec: { opts: "a,algorithm= c,check l,length= ,tag ,untagged z,zero ,ignore-missing ,quiet ,status ,strict w,warn ,debug ,base64 ,raw ,help ,version" }, role: "content", globs: true },
  diff: {
    spec: { opts: ",normal q,brief s,report-identical-files c C,context? u U,unified? e,ed n,rcs y,side-by-side W,width= ,left-column ,suppress-common-lines p,show-c-function F,show-function-line= ,label= t,expand-tabs T,initial-tab ,tabsize= ,suppress-blank-empty l,paginate!x r,recursive ,no-dereference N,new-file ,unidirectional-new-file ,ignore-file-name-case ,no-ignore-file-name-case x,exclude= X,exclude-from=!s S,starting-file= ,from-file= ,to-file= i,ignore-case E,ignore-tab-expansion Z,ignore-trailing-space b,ignore-space-change w,ignore-all-space B,ignore-blank-lines I,ignore-matching-lines= a,text ,strip-trailing-cr D,ifdef= ,GTYPE-group-format= ,old-group-format= ,new-group-format= ,changed-group-format= ,unchanged-group-format= ,line-format= ,old-line-format= ,new-line-format= ,unchanged-line-format= d,minimal ,horizon-lines= ,speed-large-files ,color? ,palette= ,help v,version" },
    role: "content",
    values: { "--color": ["never", "always", "auto"] },
    paths: (p) => [...p.operands, ...(valueOf(p, "--from-file", "--to-file").filter(Boolean) as string[])],
    check: (p) => {
      // Directories: diff compares every common file (-N: every file; -r: the whole tree).
      const tree = has(p, "--recursive", "--new-file", "--unidirectional-new-file", "--from-file", "--to-file", "--starting-file");
      const entry = "diff over directories reads every file in them (-N: absent files count as empty, -r: the whole tree); each operand is judged as a tree";
      for (const op of [...p.operands, ...(valueOf(p, "--from-file", "--to-file").filter(Boolean) as string[])]) {
        const n = normalisePath(op);
        if (op === "-") continue;
        if (tree && !logTree(n.path)) return { rule: "approval.recursive-read", reason: `diff ${p.opts.filter((o) => /recursive|new-file|from-file|to-file|starting-file/.test(o.def.canonical)).map((o) => o.def.canonical).join(" ")} reads every file below ${op}; only /var/log is auto-allowed`, entry };
        if (holdsSecrets(n.path)) return { rule: "approval.recursive-read", reason: `${op} is a directory that holds secrets; diff compares every file in it`, entry };
      }
      return undefined;
    },
  },
  cmp: { spec: { opts: "b,print-bytes i,ignore-initial= l,verbose n,bytes= s,quiet ,silent ,help v,version" }, role: "content" },
  grep: { spec: { opts: GREP_OPTS }, role: "content", values: GREP_VALUES, paths: grepPaths, check: grepRecursion, globs: true },
  egrep: { spec: { opts: GREP_OPTS }, role: "content", values: GREP_VALUES, paths: grepPaths, check: grepRecursion, globs: true },
  fgrep: { spec: { opts: GREP_OPTS }, role: "content", values: GREP_VALUES, paths: grepPaths, check: grepRecursion, globs: true },
  // zgrep is a shell script that reads a fixed set of options exactly (no abbreviations, no -r);
  // -f copies the patterns into a temporary file (a write, found by the differential test).
  zgrep: { spec: { opts: "E F G P e= f=!w i y w x s v V m= b n H h o q a A= B= C= c l L T Z z U", abbrev: false }, role: "content", paths: grepPaths, globs: true },
  zcat: { spec: { opts: "f,force l,list q,quiet r,recursive!o S,suffix= ,synchronous t,test v,verbose ,help V,version", abbrev: false }, role: "content", globs: true },
  sort: {
    spec: { opts: "b,ignore-leading-blanks d,dictionary-order f,ignore-case g,general-numeric-sort i,ignore-nonprinting M,month-sort h,human-numeric-sort n,numeric-sort R,random-sort ,random-source=!s r,reverse ,sort= V,version-sort ,batch-size= c C,check? ,compress-program=!x ,debug ,files0-from=!s k,key= m,merge o,output=!w s,stable S,buffer-size= t,field-separator= T,temporary-directory=!w ,parallel= u,unique z,zero-terminated ,help ,version" },
    role: "content",
    values: { "--sort": ["general-numeric", "human-numeric", "month", "numeric", "random", "version"], "--check": ["quiet", "silent", "diagnose-first"] },
  },
  uniq: { spec: { opts: "c,count d,repeated D ,all-repeated? f,skip-fields= ,group? i,ignore-case s,skip-chars= u,unique z,zero-terminated w,check-chars= ,help ,version" }, role: "content", maxOperands: 1, values: { "--all-repeated": ["none", "prepend", "separate"], "--group": ["separate", "prepend", "append", "both"] } },
  cut: { spec: { opts: "b,bytes= c,characters= d,delimiter= f,fields= n ,complement s,only-delimited ,output-delimiter= z,zero-terminated ,help ,version" }, role: "content" },
  od: { spec: { opts: "A,address-radix= ,endian= j,skip-bytes= N,read-bytes= S,strings? t,format= v,output-duplicates w,width? ,traditional ,help ,version a b c d f i l o s x" }, role: "content" },
  journalctl: {
    spec: {
      opts: ",system ,user M,machine= m,merge D,directory= ,file= ,root=!w ,image=!w ,image-policy= ,namespace= S,since= U,until= c,cursor= ,after-cursor= ,cursor-file=!w ,show-cursor b,boot? ,list-boots u,unit= ,user-unit= ,invocation= I t,identifier= T,exclude-identifier= p,priority= ,facility= g,grep= ,case-sensitive? k,dmesg o,output= ,output-fields= n,lines? r,reverse ,utc x,catalog ,no-hostname ,no-full l,full a,all f,follow!f ,no-tail q,quiet ,no-pager e,pager-end W,truncate-newline ,interval= ,verify-key=!s ,force!w h,help ,version N,fields F,field= ,disk-usage ,vacuum-size=!w ,vacuum-files=!w ,vacuum-time=!w ,verify ,sync!w ,relinquish-var!w ,smart-relinquish-var!w ,flush!w ,rotate!w ,header ,list-catalog ,dump-catalog ,update-catalog!w ,setup-keys!w ,new-id128 ,list-namespaces ,list-invocations ,synchronize-on-exit=!f ,no-pager-end",
      // journalctl -n/-b without an attached value look at the next word and take it when it parses.
      peek: { n: /^(\+?\d+|all)$/, b: /^(all|[+-]?\d+|[0-9a-fA-F]{32}([+-]\d+)?)$/ },
    },
    role: "none",
    values: { "--case-sensitive": ["yes", "no", "true", "false", "1", "0", "on", "off", "y", "n", "t", "f"] },
    check: (p) => {
      for (const v of valueOf(p, "--directory", "--file")) {
        const f = v === undefined ? undefined : pathFinding(v, true);
        if (f) return f;
      }
      const bad = p.operands.find((x) => x !== "+" && !/^[A-Z0-9_]+=/.test(x));
      return bad === undefined ? undefined : { rule: "approval.option", reason: `journalctl operand ${JSON.stringify(bad)}: only FIELD=value matches are accepted (a path selects by executable or device)`, entry: "journalctl operands: FIELD=value and +" };
    },
  },
  systemctl: {
    spec: {
      opts: "h,help ,version ,system ,user H,host=!n M,machine=!n C,capsule=!n t,type= ,state= ,failed p,property= P= a,all l,full r,recursive ,reverse ,with-dependencies ,job-mode=!w T,show-transaction ,show-types ,value ,check-inhibitors=!w i ,kill-whom=!w ,kill-value=!w s,signal=!w ,what=!w ,now!w ,dry-run q,quiet ,wait!f ,no-block ,no-wall ,no-reload ,legend= ,no-pager ,no-ask-password ,global ,runtime!w f,force!w ,preset-mode=!w ,root=!w ,image=!w ,image-policy=!w n,lines= o,output= ,firmware-setup!w ,boot-loader-menu=!w ,boot-loader-entry=!w ,reboot-argument=!w ,plain ,timestamp= ,read-only!w ,mkdir!w ,marked!w ,drop-in=!w ,when=!w",
    },
    role: "none",
    check: (p) => {
      const verb = p.operands[0];
      const entry = "systemctl verbs: status, is-active, is-enabled, is-failed, is-system-running, list-*, get-default (show and cat print Environment= secrets)";
      if (verb === undefined) return undefined;
      if (verb === "show" || verb === "cat" || verb === "show-environment") return { rule: "approval.unit-secrets", reason: `systemctl ${verb} prints unit files and Environment= lines, which often hold secrets`, entry };
      if (!/^(status|is-active|is-enabled|is-failed|is-system-running|list-units|list-unit-files|list-timers|list-sockets|list-dependencies|list-jobs|list-machines|list-paths|list-automounts|get-default)$/.test(verb)) return { rule: "approval.option", reason: `systemctl ${verb} is not a read-only verb`, entry };
      const bad = p.operands.slice(1).find((u) => !/^[A-Za-z0-9@_.:*\\-]+$/.test(u));
      return bad === undefined ? undefined : { rule: "approval.option", reason: `systemctl unit ${JSON.stringify(bad)} is not a plain unit name`, entry };
    },
  },
  dmesg: {
    spec: { opts: "C,clear!w c,read-clear!w D,console-off!w E,console-on!w F,file=!s f,facility= H,human J,json k,kernel L,color? l,level= n,console-level=!w P,nopager p,force-prefix r,raw ,noescape S,syslog s,buffer-size= u,userspace w,follow!f W,follow-new!f x,decode d,show-delta e,reltime T,ctime t,notime ,time-format= ,since= ,until= h,help V,version" },
    role: "none",
    maxOperands: 0,
    values: { "--color": ["auto", "never", "always"] },
  },
  ss: {
    spec: { opts: "h,help V,version n,numeric r,resolve a,all l,listening o,options e,extended m,memory p,processes T,threads i,info ,tipcinfo s,summary ,tos ,cgroup b,bpf E,events!f Z,context z,contexts N,net=!o 4,ipv4 6,ipv6 0,packet t,tcp M,mptcp S,sctp u,udp d,dccp w,raw x,unix ,tipc ,vsock ,xdp f,family= K,kill!w H,no-header O,oneline ,inet-sockopt A,query= ,socket= D,diag=!w F,filter=!s B,bound-inactive" },
    role: "none",
    check: (p) => (p.operands.length <= 12 && p.operands.every((x) => /^[a-z0-9:.*=!()[\]-]+$/i.test(x)) ? undefined : { rule: "approval.option", reason: "unexpected ss filter", entry: "ss filter: state/port/address words" }),
  },
  netstat: {
    spec: { opts: "r,route i,interfaces!n g,groups!n s,statistics M,masquerade v,verbose W,wide n,numeric ,numeric-hosts ,numeric-ports ,numeric-users N,symbolic e,extend p,programs o,timers c,continuous!f l,listening a,all F,fib C,cache Z,context t,tcp u,udp w,raw x,unix 4 6 A,protocol=", abbrev: false },
    role: "none",
    maxOperands: 0,
    // Without -n netstat resolves every address and port through DNS: queries leave the host.
    check: (p) => (has(p, "--numeric", "--numeric-hosts") || has(p, "--statistics") ? undefined : { rule: "approval.egress", reason: "netstat without -n looks up every address in DNS (queries leave the host)", entry: "netstat: -n (or --numeric-hosts) is required unless -s" }),
  },
  w: { spec: { opts: "h,no-header u,no-current s,short f,from o,old-style i,ip-addr p,pids ,help V,version" }, role: "none", maxOperands: 1 },
  who: { spec: { opts: "a,all b,boot d,dead H,heading ,ips l,login ,lookup m p,process q,count r,runlevel s,short t,time u,users T,mesg w ,message ,writable ,help ,version" }, role: "none", check: (p) => (p.operands.length === 0 || (p.operands.length === 2 && /^am$/.test(p.operands[0])) ? undefined : { rule: "approval.option", reason: "who FILE reads any file as a login record", entry: "who operands: none, or `am i`" }) },
  last: { spec: { opts: "a,hostlast d,dns f,file=!s F,fulltimes i,ip n,limit= R,nohostname s,since= t,until= p,present= w,fullnames x,system ,time-format= h,help V,version", numeric: true }, role: "none", maxOperands: 3 },
  lastlog: { spec: { opts: "b,before= C,clear!w h,help R,root=!w S,set!w t,time= u,user=", abbrev: false }, role: "none", maxOperands: 0 },
  vmstat: { spec: { opts: "a,active f,forks m,slabs n,one-header s,stats d,disk D,disk-sum p,partition= S,unit= w,wide t,timestamp y,no-first h,help V,version" }, role: "none", check: (p) => countedInterval(60)(p.operands) },
  iostat: { spec: { opts: "c d h k m N t x y z s g= H j= o= p? ,dec= ,human ,pretty ,compact", abbrev: false }, role: "none", check: (p) => countedInterval(60)(p.operands.filter((x) => NUM.test(x))) ?? (p.operands.every((x) => NUM.test(x) || /^[a-z0-9]+$/.test(x)) ? undefined : { rule: "approval.option", reason: "unexpected iostat operand" }) },
  mpstat: { spec: { opts: "A n T u I= N= P= o= ,dec=", abbrev: false }, role: "none", check: (p) => countedInterval(60)(p.operands) },
  sar: {
    spec: { opts: "A B b C d F H h I= i= j= m= n= o?!w P= p q r S u v W w x y z f? ,dec= ,human ,help V", abbrev: false, peek: { f: /^[^-]/, o: /^[^-]/ } },
    role: "none",
    check: (p) => {
      for (const v of valueOf(p, "-f")) {
        const f = v === undefined ? undefined : pathFinding(v, true);
        if (f) return f;
      }
      // sar -f FILE reads a data file: then no interval is needed; else interval and count.
      if (has(p, "-f") && p.operands.length === 0) return undefined;
      if (p.operands.length === 0) return undefined;
      return countedInterval(60)(p.operands);
    },
  },
  lscpu: { spec: { opts: "a,all b,online B,bytes C,caches? c,offline J,json e,extended? p,parse? s,sysroot=!s x,hex y,physical ,output-all r,raw h,help V,version" }, role: "none", maxOperands: 0 },
  lsblk: { spec: { opts: "A,noempty D,discard E,dedup= I,include= J,json M,merge O,output-all P,pairs S,scsi N,nvme v,virtio T,tree? a,all b,bytes d,nodeps e,exclude= f,fs i,ascii l,list m,perms n,noheadings o,output= p,paths r,raw s,inverse t,topology w,width= x,sort= y,shell z,zoned ,sysroot=!s ,properties-by= ,filter= ,highlight= ,ct= ,ct-filter= ,hyperlink? h,help V,version" }, role: "names" },
  lsmod: { spec: { opts: "h,help V,version", abbrev: false }, role: "none", maxOperands: 0 },
  lspci: { spec: { opts: "m t v k x!d b D P n N q Q!n s= d= i=!s p=!s A=!o H=!d F=!s M!d O=", abbrev: false }, role: "none", maxOperands: 0 },
  lsusb: { spec: { opts: "v,verbose t,tree s= d= D=!d V,version h,help", abbrev: false }, role: "none", maxOperands: 0 },
  lsns: { spec: { opts: "J,json l,list n,noheadings o,output= ,output-all p,task= r,raw u,notruncate W,nowrap t,type= T,tree? P,persistent ,filter= H,list-columns h,help V,version" }, role: "none", maxOperands: 1 },
  findmnt: {
    spec: { opts: "s,fstab m,mtab k,kernel? p,poll?!f w,timeout=!f A,all a,ascii b,bytes C,nocanonicalize c,canonicalize D,df d,direction= e,evaluate!d F,tab-file=!s f,first-only i,invert I,dfi J,json l,list N,task= n,noheadings O,options= o,output= ,output-all P,pairs ,pseudo ,shadowed R,submounts r,raw ,real S,source= T,target= ,tree M,mountpoint= t,types= U,uniq u,notruncate v,nofsroot y,shell x,verify!d ,verbose ,vfs-all ,id= ,uniq-id= ,filter= ,list-columns h,help V,version" },
    role: "names",
  },
  mount: { spec: { opts: "l,show-labels t,types= v,verbose h,help V,version", abbrev: false }, role: "none", maxOperands: 0 },
  pgrep: {
    spec: { opts: "d,delimiter= l,list-name a,list-full v,inverse w,lightweight c,count f,full g,pgroup= G,group= i,ignore-case n,newest o,oldest O,older= P,parent= s,session= t,terminal= u,euid= U,uid= x,exact F,pidfile=!s L,logpidfile r,runstates= A,ignore-ancestors ,cgroup= ,ns= ,nslist= ,env=!s q,queue=!w ,signal=!w e,echo h,help V,version" },
    role: "none",
  },
  pidof: { spec: { opts: "s c q w x z n o= S= t", abbrev: false }, role: "none" },
  sysctl: {
    spec: { opts: "a,all A X ,deprecated ,dry-run b,binary e,ignore N,names n,values p,load?!w f!w ,system!w r,pattern= q,quiet w,write!w o x d h,help V,version" },
    role: "none",
    check: (p) => (p.operands.every((x) => /^[a-z0-9_.*/-]+$/i.test(x) && !x.includes("=")) ? undefined : { rule: "approval.option", reason: "sysctl with a=b sets a kernel value", entry: "sysctl operands: names only" }),
  },
  getenforce: { spec: { opts: "", abbrev: false }, role: "none", maxOperands: 0 },
  sestatus: { spec: { opts: "v b", abbrev: false }, role: "none", maxOperands: 0 },
  lsb_release: { spec: { opts: "v,version i,id d,description r,release c,codename a,all s,short h,help" }, role: "none", maxOperands: 0 },
  modinfo: { spec: { opts: "0,null a,author d,description l,license p,parameters n,filename F,field= k= b,basedir=!s h,help V,version" }, role: "none", check: (p) => (p.operands.every((x) => /^[A-Za-z0-9_-]+$/.test(x)) ? undefined : { rule: "approval.option", reason: "modinfo takes module names", entry: "modinfo operands: module names" }) },
  tree: { spec: { opts: "a d l f x L= R P= I= ,gitignore!s ,ignore-case ,matchdirs ,metafirst ,prune ,info ,noreport ,charset= ,filelimit= ,timefmt= o=!w q N Q p u g s h ,si ,du D F ,inodes ,device v t c U r ,dirsfirst ,filesfirst ,sort= i A S n C X J H=!o T= ,nolinks ,fromfile!s ,fflinks ,hyperlink ,help ,version", abbrev: false }, role: "names" },
  echo: { custom: (a) => (a[0] === "-e" || a.some((x, i) => /^-[neE]+$/.test(x) && x.includes("e") && a.slice(0, i).every((y) => /^-[neE]+$/.test(y))) ? { rule: "approval.option", reason: "echo -e interprets escape sequences (terminal control codes)", entry: "echo: -n, -E only" } : undefined), role: "none" },
  test: { custom: (a) => { const f = a.filter((x) => looksLikePath(x)).map((x) => pathFinding(x, false)).find(Boolean); return f; }, role: "none" },
  sed: { custom: checkSed, role: "content" },
  find: { custom: checkFind, role: "names" },
  ps: { custom: checkPs, role: "none" },
  ip: { custom: checkIp, role: "none" },
  top: { custom: checkTop, role: "none" },
  lsof: { custom: checkLsof, role: "names" },
  hostnamectl: {
    custom: (a) => {
      const words = a.filter((x) => !/^(--no-pager|--static|--transient|--pretty|--json=(short|pretty|off))$/.test(x));
      return words.length === 0 || (words.length === 1 && /^(status|hostname|icon-name|chassis|deployment|location)$/.test(words[0])) ? undefined : { rule: "approval.option", reason: "only `hostnamectl [status]` and reading one property are read-only", entry: "hostnamectl: status, or one of hostname/icon-name/chassis/deployment/location without a value" };
    },
    role: "none",
  },
  timedatectl: { custom: (a) => (a.every((x) => /^(status|show|list-timezones|timesync-status|show-timesync|--no-pager|-a|--all|--value|-p|--property=[A-Za-z]+)$/.test(x)) ? undefined : { rule: "approval.option", reason: "only timedatectl status/show verbs are read-only", entry: "timedatectl: status, show, list-timezones, timesync-status, show-timesync" }), role: "none" },
  loginctl: { custom: (a) => (a.length >= 1 && /^(list-sessions|list-users|list-seats|session-status|user-status|seat-status|show-session|show-user|show-seat)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-") || /^(--no-pager|--no-legend|-a|--all|-l|--full|--value)$/.test(x)) ? undefined : { rule: "approval.option", reason: "only loginctl list/status verbs are read-only", entry: "loginctl: list-*, *-status, show-session|user|seat" }), role: "none" },
  getent: { custom: checkGetent, role: "none" },
  crontab: { custom: (a) => ((a.length === 1 && a[0] === "-l") || (a.length === 3 && a[0] === "-u" && a[2] === "-l") || (a.length === 3 && a[0] === "-l" && a[1] === "-u") ? undefined : { rule: "approval.option", reason: "only crontab -l is read-only", entry: "crontab: -l, -u USER -l" }), role: "none" },
  ping: { custom: checkPing, role: "none" },
  ping6: { custom: checkPing, role: "none" },
  dig: { custom: checkDig, role: "none" },
  host: { custom: checkHost, role: "none" },
  nslookup: { custom: checkNslookup, role: "none" },
  traceroute: { custom: checkTraceroute, role: "none" },
  tracepath: { custom: checkTraceroute, role: "none" },
  dpkg: { custom: (a) => (a.length >= 1 && /^(-l|-L|-s|-S|-p|--list|--listfiles|--status|--search|--print-avail|--get-selections|--print-architecture|--print-foreign-architectures|--audit|-C)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-")) ? undefined : { rule: "approval.option", reason: "only dpkg query options are read-only", entry: "dpkg: -l, -L, -s, -S, -p, --get-selections, --print-architecture" }), role: "none" },
  "dpkg-query": { custom: (a) => (a.length >= 1 && /^(-l|-L|-s|-S|-W|--list|--listfiles|--status|--search|--show)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-") || /^(-f|--showformat=.*)$/.test(x)) ? undefined : { rule: "approval.option", reason: "only dpkg-query queries", entry: "dpkg-query: -l, -L, -s, -S, -W" }), role: "none" },
  rpm: { custom: (a) => (a.length >= 1 && /^-q[ailfcdR]*$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-") || /^-[ailfcdR]+$/.test(x)) ? undefined : { rule: "approval.option", reason: "only rpm -q queries are read-only", entry: "rpm: -q[ailfcdR]" }), role: "none" },
  "apt-cache": { custom: (a) => (a.length >= 1 && /^(policy|show|search|depends|rdepends|showpkg|madison|stats|showsrc|pkgnames)$/.test(a[0]) && a.slice(1).every((x) => !x.startsWith("-")) ? undefined : { rule: "approval.option", reason: "only apt-cache query verbs are read-only", entry: "apt-cache: policy, show, search, depends, rdepends, showpkg, madison, stats" }), role: "none" },
  awk: { custom: checkAwk, role: "content" },
  gawk: { custom: checkAwk, role: "content" },
  mawk: { custom: checkAwk, role: "content" },
  mdadm: { custom: checkMdadm, role: "none" },
  smartctl: { custom: checkSmartctl, role: "none" },
  openssl: { custom: checkOpenssl, role: "none" },
};

/** A directory whose files (one level down) include secrets: homes, /root, /etc, key dirs. */
function holdsSecrets(path: string): boolean {
  if (secretClass(path)) return true;
  // The directory itself (diff compares the files directly in it): system trees, service state,
  // and configuration directories known to keep keys or passwords next to the config.
  return /^\/(etc|root|home|var\/lib|run|srv|opt|var\/spool|var\/backups|boot|proc|dev|sys)?$/.test(path) || /^\/(etc\/(ssh|ssl|pki|letsencrypt|mysql|postgresql|nginx|apache2|httpd|sssd|sudoers\.d|NetworkManager|wireguard|openvpn|docker|containers|kubernetes|rancher|gitlab-runner|grafana|ipsec\.d|ppp|samba|ldap|krb5kdc|[^/]+\/(private|secrets?|keys?|credentials))|var\/lib\/[^/]+|home\/[^/]+|run\/[^/]+|srv\/[^/]+|opt\/[^/]+)\/?$/.test(path);
}

export const TOOL_NAMES: ReadonlySet<string> = new Set(Object.keys(TOOLS));

const TABLES = new Map<string, Table>();
function tableOf(name: string, tool: Tool): Table | undefined {
  if (!tool.spec) return undefined;
  let t = TABLES.get(name);
  if (!t) {
    t = table(tool.spec);
    TABLES.set(name, t);
  }
  return t;
}

/** The tool's table, for the differential test and --explain. */
export function toolTable(name: string): Table | undefined {
  const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
  return tool ? tableOf(name, tool) : undefined;
}

export function toolRole(name: string): Role | undefined {
  return Object.hasOwn(TOOLS, name) ? TOOLS[name].role : undefined;
}

export function toolAcceptsGlobs(name: string): boolean {
  return Object.hasOwn(TOOLS, name) && TOOLS[name].globs === true;
}

/** argv in normal form for a tool without a table: `--x=y` split, paths normalised. */
export function genericNormal(argv: string[]): string[] {
  const out: string[] = [argv[0]];
  for (const w of argv.slice(1)) {
    const eq = w.startsWith("--") ? w.indexOf("=") : -1;
    if (eq > 2) out.push(w.slice(0, eq), normWord(w.slice(eq + 1)));
    else out.push(normWord(w));
  }
  return out;
}

function normWord(w: string): string {
  return looksLikePath(w) && !w.startsWith("-") && !/^[a-z]+:\/\//i.test(w) ? normalisePath(w).path : w;
}

/**
 * The judgement of one allow-listed command. `globs`: indexes (into args) of operand words that
 * are shell globs, checked here against the glob rule.
 */
export function checkTool(name: string, args: string[], ctx: ToolContext, globs: ReadonlySet<number> = new Set()): ToolResult {
  const tool = TOOLS[name];
  const explain: string[] = [];
  if (tool.custom) {
    if (globs.size) return { finding: { rule: "approval.expansion", reason: `${name} does not take glob operands here` }, normal: genericNormal([name, ...args]), explain };
    const finding = tool.custom(args, ctx);
    const normal = name === "ip" ? ipNormal(args) : genericNormal([name, ...args]);
    if (!finding) {
      explain.push(`${name}: its own parser (not getopt): every word matched the accepted forms`);
      const paths = name === "find" ? findStartPathsOf(args) : name === "sed" ? args.slice(2) : name === "lsof" ? args.filter((a, i) => !a.startsWith("-") && !a.startsWith("+") && !/^-[ipucgsd]$/.test(args[i - 1] ?? "")) : [];
      for (const p of paths) {
        const f = pathFinding(p, tool.role === "content");
        if (f) return { finding: f, normal, explain };
      }
    }
    return { finding, normal, explain };
  }
  if (globs.size && (!tool.globs || tool.role === "none")) return { finding: { rule: "approval.expansion", reason: `${name} does not take glob operands (the shell would expand them into unknown words)` }, normal: genericNormal([name, ...args]), explain };
  const t = tableOf(name, tool)!;
  // Map glob word positions into operand identity by value (operands keep their text).
  const globWords = new Set([...globs].map((i) => args[i]));
  const p = parseArgs(name, t, args);
  const normal = [name];
  if (p.problem) return { finding: p.problem, normal: genericNormal([name, ...args]), explain };
  for (const o of p.opts) {
    if (o.def.deny) {
      const cls = DENY_CLASS[o.def.deny];
      return { finding: { rule: cls.rule, reason: `${name} ${o.raw}${o.raw.startsWith("--") || o.def.canonical === o.raw ? "" : ` (${o.def.canonical})`} ${cls.why}`, entry: `${name} ${describeDef(o.def, t)}` }, normal: normalOf(name, p), explain };
    }
    const rule = tool.values?.[o.def.canonical];
    if (rule && o.value !== undefined) {
      if (typeof rule === "function") {
        const why = rule(o.value);
        if (why) return { finding: { rule: "approval.option", reason: `${name} ${o.def.canonical} ${why}`, entry: `${name} ${describeDef(o.def, t)}` }, normal: normalOf(name, p), explain };
      } else {
        const m = matchValue(o.value, rule);
        if (m.ambiguous) return { finding: { rule: "approval.ambiguous", reason: `${name} ${o.def.canonical}=${o.value} is ambiguous (${m.ambiguous.join(", ")})`, entry: `${name} ${o.def.canonical}: values ${rule.join(", ")} (unique prefixes accepted)` }, normal: normalOf(name, p), explain };
        if (m.value === undefined) return { finding: { rule: "approval.option", reason: `${name} ${o.def.canonical}=${o.value} is not one of ${rule.join(", ")}`, entry: `${name} ${o.def.canonical}: values ${rule.join(", ")}` }, normal: normalOf(name, p), explain };
        o.value = m.value;
      }
    }
    if (o.value !== undefined && looksLikePath(o.value) && !globWords.has(o.value)) {
      const f = pathFinding(o.value, true);
      if (f) return { finding: { ...f, entry: `${name} ${describeDef(o.def, t)}` }, normal: normalOf(name, p), explain };
    }
    explain.push(`${name} ${describeDef(o.def, t)}${o.value !== undefined ? ` = ${JSON.stringify(o.value)}` : ""}`);
  }
  for (const o of p.opts) if (o.value !== undefined && globWords.has(o.value)) return { finding: { rule: "approval.expansion", reason: `glob ${o.value} as an option value` }, normal: normalOf(name, p), explain };
  if (tool.maxOperands !== undefined && p.operands.length > tool.maxOperands) return { finding: { rule: "approval.option", reason: `${name} takes at most ${tool.maxOperands} operand(s) when read-only`, entry: `${name} operands: at most ${tool.maxOperands}` }, normal: normalOf(name, p), explain };
  const semantic = tool.check?.(p, ctx);
  if (semantic) return { finding: semantic, normal: normalOf(name, p), explain };
  if (tool.role !== "none") {
    const paths = tool.paths ? tool.paths(p) : p.operands;
    for (const x of paths) {
      if (globWords.has(x)) {
        const g = globFinding(name, x, tool);
        if (g) return { finding: g, normal: normalOf(name, p), explain };
        continue;
      }
      const f = pathFinding(x, tool.role === "content");
      if (f) return { finding: f, normal: normalOf(name, p), explain };
    }
  }
  const stray = [...globWords].find((g) => !(tool.paths ? tool.paths(p) : p.operands).includes(g));
  if (stray !== undefined) return { finding: { rule: "approval.expansion", reason: `glob ${stray} is not a path operand of ${name}` }, normal: normalOf(name, p), explain };
  return { normal: normalOf(name, p), explain };
}

function normalOf(name: string, p: Parsed): string[] {
  const out = [name];
  for (const o of p.opts as ParsedOpt[]) {
    out.push(o.def.canonical);
    if (o.value !== undefined) out.push(normWord(o.value));
  }
  for (const x of p.operands) out.push(normWord(x));
  return out;
}

/**
 * A glob operand: it must start at an absolute literal directory (so no expansion can begin
 * with `-`), hold no secret in its literal part, and for tools that print contents stay under
 * /var/log (a glob elsewhere could match a key file); names-only tools may list anywhere.
 */
function globFinding(name: string, glob: string, tool: Tool): Finding | undefined {
  const entry = "glob operands: absolute, * and ? in the last part only; names-only tools anywhere but secrets, content readers only under /var/log";
  if (!tool.globs) return { rule: "approval.expansion", reason: `${name} does not take glob operands`, entry };
  if (!glob.startsWith("/") || /[[\]{}]/.test(glob)) return { rule: "approval.expansion", reason: `glob ${glob} is not an absolute path pattern`, entry };
  const n = normalisePath(glob);
  const literal = n.path.slice(0, n.path.search(/[*?]/));
  const dir = literal.slice(0, literal.lastIndexOf("/")) || "/";
  if (n.path.split("/").some((seg) => seg === ".." || (seg.startsWith(".") && seg !== "."))) return { rule: "approval.expansion", reason: `glob ${glob} names hidden files or climbs (..)`, entry };
  if (/[*?]/.test(n.path.slice(0, n.path.lastIndexOf("/")))) return { rule: "approval.expansion", reason: `glob ${glob} has a wildcard in a directory part (it could reach other users' homes); only the last part may be a pattern`, entry };
  if (secretClass(n.path.replace(/[*?]/g, "x")) || secretClass(dir) || secretClass(`${dir}/`)) return { rule: "approval.sensitive-path", reason: `glob ${glob} lies where secrets are`, entry };
  if (tool.role === "content" && !logTree(dir)) return { rule: "approval.sensitive-path", reason: `${name} would print every file ${glob} matches; content globs are auto-allowed only under /var/log`, entry };
  if (/^\/(dev|proc|sys)(\/|$)/.test(dir) && tool.role === "content") return { rule: "approval.device", reason: `glob ${glob} can match devices or kernel files`, entry };
  return undefined;
}

function findStartPathsOf(args: string[]): string[] {
  let i = 0;
  while (i < args.length && /^-[HLP]$/.test(args[i])) i++;
  const out: string[] = [];
  while (i < args.length && !args[i].startsWith("-") && args[i] !== "!" && args[i] !== "(") out.push(args[i++]);
  return out;
}

function checkTop(args: string[]): Finding | undefined {
  const entry = "top: batch mode with a count only: -b -n N (N ≤ 10), -d S (S ≤ 3); -c -H -i -S -1 -o FIELD -u USER -p PID -w [N] -E/-e SCALE";
  let batch = false;
  let count = 0;
  let delay = 3;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^-([bcHiS1]*)([ndpuUoOEew])?(.*)$/.exec(a);
    if (!m || !a.startsWith("-") || a === "-") return { rule: "approval.option", reason: `top argument ${JSON.stringify(a)} is not on the accepted list`, entry };
    if (m[1].includes("b")) batch = true;
    if (m[2]) {
      if (m[2] === "w" && !m[3]) continue;
      const value = m[3] || args[++i];
      if (value === undefined) return { rule: "approval.option", reason: `top -${m[2]} needs a value`, entry };
      if (m[2] === "n") {
        if (!/^([1-9]|10)$/.test(value)) return { rule: "approval.never-ends", reason: "top -n must be 1 to 10", entry };
        count = Number(value);
      }
      if (m[2] === "d") {
        if (!/^\d{1,2}(\.\d{1,3})?$/.test(value) || Number(value) > 3) return { rule: "approval.never-ends", reason: `top -d ${value}: a delay over 3 s keeps the command running`, entry };
        delay = Number(value);
      }
    } else if (m[3]) return { rule: "approval.option", reason: `top option ${JSON.stringify(a)} is not on the accepted list`, entry };
  }
  void delay;
  return batch && count ? undefined : { rule: "approval.never-ends", reason: "top needs -b and -n N (N ≤ 10) so it does not wait for keys or run forever", entry };
}

function checkSed(args: string[]): Finding | undefined {
  const entry = "sed: only `sed -n N,Mp FILE…`";
  if (args[0] !== "-n" || args.length < 2) return { rule: "approval.option", reason: "only `sed -n N,Mp FILE` is read-only", entry };
  if (!/^(\d+|\$)(,(\d+|\$))?p$/.test(args[1])) return { rule: "approval.option", reason: "only a line-range print script (N,Mp) is accepted", entry };
  if (args.slice(2).some((a) => a.startsWith("-"))) return { rule: "approval.option", reason: "no further sed options are accepted", entry };
  return undefined;
}

const FIND_OK_NOARG = new Set(["-print", "-print0", "-ls", "-xdev", "-mount", "-depth", "-d", "-follow", "-noleaf", "-empty", "-readable", "-writable", "-executable", "-not", "!", "-a", "-o", "-and", "-or", "-true", "-false", "-prune", "-nouser", "-nogroup", "-daystart", "-quit", "(", ")", "-ignore_readdir_race", "-noignore_readdir_race"]);
const FIND_OK_ARG = new Set(["-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-type", "-xtype", "-maxdepth", "-mindepth", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-size", "-newer", "-anewer", "-cnewer", "-user", "-group", "-uid", "-gid", "-perm", "-links", "-inum", "-samefile", "-printf", "-fstype", "-lname", "-ilname", "-regextype", "-used", "-context"]);

function checkFind(args: string[]): Finding | undefined {
  const entry = "find: tests and -print/-print0/-ls/-printf/-prune/-quit only";
  let i = 0;
  while (i < args.length && /^-[HLP]$/.test(args[i])) i++;
  if (args[i] === "-D" || /^-O\d?$/.test(args[i] ?? "")) return { rule: "approval.option", reason: "find -D/-O are not accepted", entry };
  while (i < args.length && !args[i].startsWith("-") && args[i] !== "!" && args[i] !== "(") i++;
  for (; i < args.length; i++) {
    const a = args[i];
    if (FIND_OK_NOARG.has(a)) continue;
    if (FIND_OK_ARG.has(a) || /^-newer[amcBt][amcBt]$/.test(a)) {
      if (i + 1 >= args.length) return { rule: "approval.option", reason: `find ${a} needs a value`, entry };
      i++;
      if (/^-(newer|anewer|cnewer|samefile)/.test(a)) {
        const f = pathFinding(args[i], false);
        if (f) return f;
      }
      continue;
    }
    if (/^-(delete|exec|execdir|ok|okdir|fprint|fprint0|fprintf|fls|files0-from)$/.test(a)) return { rule: "approval.option", reason: `find ${a} changes files, runs commands or reads a file list`, entry };
    return { rule: "approval.option", reason: `find expression ${JSON.stringify(a)} is not on the accepted list`, entry };
  }
  return undefined;
}

function checkPs(args: string[]): Finding | undefined {
  const entry = "ps: aux, -ef, -eo FIELDS, -p PID, -u USER, --sort, --forest … (no e/environ: environments)";
  const FORMS = /^(aux|auxf|auxww|auxw|axjf|ax|axo|-ef|-efH|-efww|-eF|-ely|-e|-f|-F|-A|-a|-H|-l|-L|-T|-ww|-w|--forest|--no-headers|-eLf|-fp|-o|-eo|-p|-u|-U|-C|-g|-G|--sort|--pid|--ppid|--user|-q|-x|-fu|-fU|-fC)$/;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (/^--(sort|pid|ppid|user|format)=[a-zA-Z0-9_,%+:.-]+$/.test(a) && !/(^|[,=])(e|environ|ev)(,|$)/.test(a)) continue;
    if (!FORMS.test(a)) return { rule: "approval.option", reason: `ps ${JSON.stringify(a)} is not on the accepted list (e.g. \`ps e\` shows environments)`, entry };
    if (/^(-o|-eo|-fp|-p|-u|-U|-C|-g|-G|--sort|--pid|--ppid|--user|-q|axo|-fu|-fU|-fC)$/.test(a)) {
      const v = args[++i];
      if (v === undefined || !/^[a-zA-Z0-9_,%+:=.-]+$/.test(v) || /(^|,)(e|environ|ev)(,|=|$)/.test(v)) return { rule: "approval.option", reason: `ps ${a} needs a plain value (not environ)`, entry };
    }
  }
  return undefined;
}

/** iproute2 `matches(prefix, word)`: the prefix of a word (the empty prefix matches anything). */
const ipMatches = (prefix: string, word: string) => word.startsWith(prefix);

/** ip's global options, in the order ip.c tries them (the first prefix match wins). */
const IP_GLOBAL: [string, "none" | "arg", boolean][] = [
  ["-loops", "arg", true], ["-family", "arg", true], ["-4", "none", true], ["-6", "none", true], ["-0", "none", true], ["-M", "none", true], ["-B", "none", true],
  ["-human", "none", true], ["-human-readable", "none", true], ["-iec", "none", true], ["-stats", "none", true], ["-statistics", "none", true], ["-details", "none", true],
  ["-resolve", "none", true], ["-oneline", "none", true], ["-timestamp", "none", true], ["-tshort", "none", true], ["-Version", "none", true], ["-force", "none", true],
  ["-batch", "arg", false], ["-brief", "none", true], ["-json", "none", true], ["-pretty", "none", true], ["-rcvbuf", "arg", true], ["-color", "none", true], ["-colour", "none", true],
  ["-help", "none", true], ["-netns", "arg", false], ["-Numeric", "none", true], ["-all", "none", true], ["-echo", "none", true],
];
/** ip's objects in the order ip.c's table lists them (the first prefix match wins). */
const IP_OBJECTS = ["address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "ntbl", "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token", "tcpmetrics", "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop", "mptcp", "ioam", "help", "stats"];
const IP_READ_OBJECTS = new Set(["address", "maddress", "route", "rule", "neighbor", "neighbour", "link", "netconf", "ntable", "tunnel", "nexthop", "mroute", "addrlabel", "stats"]);
/** Per object: the verbs that change state (a word that is a prefix of one of these is not a read: `ip link s` = set). */
const IP_WRITE_VERBS: Record<string, string[]> = {
  address: ["add", "change", "chg", "replace", "delete", "flush", "restore"],
  addrlabel: ["add", "delete", "flush"],
  maddress: ["add", "delete"],
  route: ["add", "change", "chg", "replace", "prepend", "append", "test", "delete", "flush", "restore"],
  rule: ["add", "delete", "flush", "restore"],
  neighbor: ["add", "change", "chg", "replace", "delete", "flush"],
  neighbour: ["add", "change", "chg", "replace", "delete", "flush"],
  link: ["add", "set", "change", "replace", "delete", "property"],
  netconf: [],
  ntable: ["change"],
  tunnel: ["add", "change", "delete", "prl", "6rd"],
  nexthop: ["add", "replace", "delete", "flush", "bucket"],
  mroute: [],
  stats: ["set"],
};
/** Verbs that neither show nor change (dumps, help): never auto-allowed, but not a write either. */
const IP_OTHER_VERBS = ["save", "showdump", "xstats", "afstats", "help", "monitor"];
const IP_READ_VERBS = ["show", "list", "lst", "get"];

function ipParse(args: string[]): { object?: string; verb?: string; rest: string[]; problem?: Finding; globals: string[] } {
  const entry = "ip: global options and objects are matched by prefix in ip.c's order; verbs: show/list/lst/get, any abbreviation that is not also a prefix of a state-changing verb (ip link s = set)";
  const globals: string[] = [];
  let i = 0;
  for (; i < args.length && args[i].startsWith("-"); i++) {
    let opt = args[i];
    if (opt.startsWith("--")) opt = opt.slice(1);
    if (/^-c(olou?r)?=/.test(opt) || /^-c=/.test(opt)) {
      globals.push("-color");
      continue;
    }
    const hit = IP_GLOBAL.find(([name]) => opt.length > 1 && ipMatches(opt, name));
    if (!hit) return { rest: [], globals, problem: { rule: "approval.option", reason: `ip option ${opt} is not on the accepted list`, entry } };
    if (!hit[2]) return { rest: [], globals, problem: { rule: "approval.option", reason: `ip ${opt} (${hit[0]}) ${hit[0] === "-batch" ? "runs commands from a file" : "switches network namespace"}`, entry } };
    globals.push(hit[0]);
    if (hit[1] === "arg") {
      if (i + 1 >= args.length) return { rest: [], globals, problem: { rule: "approval.option", reason: `ip ${hit[0]} needs a value`, entry } };
      globals.push(args[++i]);
    }
  }
  const objWord = args[i];
  if (objWord === undefined) return { rest: [], globals, problem: { rule: "approval.option", reason: "ip needs an object", entry } };
  const object = IP_OBJECTS.find((o) => ipMatches(objWord, o));
  if (!object || !IP_READ_OBJECTS.has(object)) return { object, rest: [], globals, problem: { rule: "approval.option", reason: `ip ${objWord}${object && object !== objWord ? ` (${object})` : ""} is not on the accepted list`, entry } };
  const verbWord = args[i + 1];
  const rest = args.slice(i + 2);
  if (verbWord === undefined) return { object, verb: "show", rest, globals };
  if (IP_READ_VERBS.includes(verbWord)) return { object, verb: verbWord === "lst" ? "list" : verbWord, rest, globals };
  const reads = IP_READ_VERBS.filter((v) => ipMatches(verbWord, v));
  const writes = (IP_WRITE_VERBS[object] ?? ["add"]).filter((v) => ipMatches(verbWord, v));
  if (writes.length) return { object, rest, globals, problem: { rule: writes.length && reads.length ? "approval.ambiguous" : "approval.option", reason: `ip ${object} ${verbWord} can mean ${writes.join("/")}${reads.length ? ` (or ${reads.join("/")})` : ""}: not read-only`, entry } };
  if (!reads.length || (IP_OTHER_VERBS.includes(verbWord))) {
    // `ip addr dev eth0`: a selector without a verb means show for these objects.
    if (/^(dev|to|from|table|scope|label|up|type|master|vrf|proto|via)$/.test(verbWord)) return { object, verb: "show", rest: [verbWord, ...rest], globals };
    return { object, rest, globals, problem: { rule: "approval.option", reason: `ip ${object} ${verbWord} is not a read-only verb`, entry } };
  }
  return { object, verb: reads[0], rest, globals };
}

function checkIp(args: string[]): Finding | undefined {
  const r = ipParse(args);
  if (r.problem) return r.problem;
  if (r.rest.some((a) => a.startsWith("-"))) return { rule: "approval.option", reason: "no options after the ip verb" };
  if (r.rest.some((a) => !/^[A-Za-z0-9_.:/@%+-]+$/.test(a))) return { rule: "approval.option", reason: "unexpected ip argument" };
  return undefined;
}

/** `ip l s lo` → `ip link set lo`: the object and verb ip would pick. */
function ipNormal(args: string[]): string[] {
  const r = ipParse(args);
  if (!r.object) return genericNormal(["ip", ...args]);
  const verbWord = args[args.length - r.rest.length - 1];
  let verb = r.verb;
  if (!verb && verbWord !== undefined) verb = (IP_WRITE_VERBS[r.object] ?? []).find((v) => ipMatches(verbWord, v)) ?? verbWord;
  return ["ip", ...r.globals, r.object, ...(verb ? [verb] : []), ...r.rest];
}

function checkLsof(args: string[]): Finding | undefined {
  const entry = "lsof: -n -P -l -R -t -V -b -w -U -a -X, -i [ADDR] (takes the next word unless it starts with - or +), -p/-u/-c/-d VALUE, -g [PGID], -s [P:S]; no -r/+r (repeat), +D/+d, -k, -m, -F, -o, -S, -T";
  const FLAGS = "nPlRtVbwUaXN";
  const REQUIRED = "pucd";
  const OPTIONAL = "igs";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return undefined;
    if (a.startsWith("+")) return { rule: a.startsWith("+r") ? "approval.never-ends" : "approval.option", reason: `lsof ${a} ${a.startsWith("+r") ? "repeats forever" : "is not accepted (+D walks trees, +r repeats)"}`, entry };
    if (!a.startsWith("-") || a === "-") continue;
    for (let k = 1; k < a.length; k++) {
      const c = a[k];
      if (FLAGS.includes(c)) continue;
      if (c === "r") return { rule: "approval.never-ends", reason: "lsof -r repeats forever", entry };
      if (REQUIRED.includes(c)) {
        if (k === a.length - 1) i++;
        break;
      }
      if (OPTIONAL.includes(c)) {
        if (k === a.length - 1 && i + 1 < args.length && !/^[-+]/.test(args[i + 1])) i++;
        break;
      }
      return { rule: "approval.option", reason: `lsof option -${c} is not on the accepted list`, entry };
    }
  }
  return undefined;
}

function checkGetent(args: string[], ctx: ToolContext): Finding | undefined {
  const entry = "getent: passwd, group, hosts, services, … (not shadow/gshadow); hosts/ahosts lookups are network egress";
  const ops = args.filter((a) => !a.startsWith("-"));
  if (args.some((a) => a.startsWith("-") && !/^(-i|--no-idn|-A|--no-addrconfig)$/.test(a))) return { rule: "approval.option", reason: "getent options other than -i/-A are not accepted", entry };
  const db = ops[0];
  if (!db || !/^(passwd|group|hosts|ahosts|ahostsv4|ahostsv6|services|protocols|networks|netgroup|ethers|rpc|initgroups|aliases)$/.test(db)) return { rule: "approval.option", reason: "getent database not on the list (shadow and gshadow hold secrets)", entry };
  if (/^(hosts|ahosts|ahostsv4|ahostsv6|networks)$/.test(db) && ops.length > 1) return egress(`getent ${db}`, ops.slice(1), ctx);
  return undefined;
}

function checkPing(args: string[], ctx: ToolContext): Finding | undefined {
  const entry = "ping: -c N (N ≤ 10) required; -n -q -4 -6 -W S -w S; target in policy.egress.allow";
  let count = 0;
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^-([nq46]*)([cWw])?(.*)$/.exec(a);
    if (a.startsWith("-")) {
      if (!m) return { rule: "approval.option", reason: `ping ${a} is not accepted (-f floods, -i/-l change the rate)`, entry };
      if (m[2]) {
        const v = m[3] || args[++i];
        if (!v || !/^\d{1,2}$/.test(v)) return { rule: "approval.option", reason: `ping -${m[2]} needs a small number`, entry };
        if (m[2] === "c") count = Number(v);
      } else if (m[3]) return { rule: "approval.option", reason: `ping ${a} is not accepted`, entry };
      continue;
    }
    targets.push(a);
  }
  if (count < 1 || count > 10) return { rule: "approval.never-ends", reason: "ping needs -c N (N ≤ 10) so it ends", entry };
  if (targets.length !== 1) return { rule: "approval.option", reason: "ping takes exactly one target", entry };
  return egress("ping", targets, ctx);
}

function checkDig(args: string[], ctx: ToolContext): Finding | undefined {
  const entry = "dig: @SERVER NAME [TYPE] [CLASS] [+opts], -t -c -p -x -4 -6; no -f (batch file), -k/-y (TSIG keys); targets in policy.egress.allow";
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("@")) targets.push(a.slice(1));
    else if (a.startsWith("+")) {
      if (!/^\+[a-z0-9=_-]+$/i.test(a)) return { rule: "approval.option", reason: `dig ${a} is not accepted`, entry };
    } else if (a.startsWith("-")) {
      const m = /^-([46mhuv]*)([tcpqxb])?(.*)$/.exec(a);
      if (!m) return { rule: "approval.option", reason: `dig ${a} is not accepted (-f reads a batch file, -k/-y take keys)`, entry };
      if (m[2]) {
        const v = m[3] || args[++i];
        if (!v) return { rule: "approval.option", reason: `dig -${m[2]} needs a value`, entry };
        if (m[2] === "q" || m[2] === "x") targets.push(v);
      } else if (m[3]) return { rule: "approval.option", reason: `dig ${a} is not accepted`, entry };
    } else if (/^(a|aaaa|mx|ns|txt|soa|cname|ptr|srv|caa|any|axfr|ixfr|ds|dnskey|in|ch|hs)$/i.test(a)) continue;
    else if (/^[a-z0-9._:-]+$/i.test(a)) targets.push(a);
    else return { rule: "approval.option", reason: `unexpected dig argument ${JSON.stringify(a)}`, entry };
  }
  return egress("dig", targets, ctx);
}

function checkHost(args: string[], ctx: ToolContext): Finding | undefined {
  const entry = "host: NAME [SERVER], -a -C -d -l -r -s -T -v -4 -6, -t TYPE, -c CLASS, -W S; targets in policy.egress.allow";
  const ops: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("-")) {
      const m = /^-([aCdlrsTUv46]*)([tcWNRm])?(.*)$/.exec(a);
      if (!m) return { rule: "approval.option", reason: `host ${a} is not accepted`, entry };
      if (m[2] && !m[3]) i++;
      continue;
    }
    ops.push(a);
  }
  if (ops.length < 1 || ops.length > 2) return { rule: "approval.option", reason: "host takes a name and an optional server", entry };
  return egress("host", ops, ctx);
}

function checkNslookup(args: string[], ctx: ToolContext): Finding | undefined {
  const entry = "nslookup: NAME [SERVER] with -type=/-query=/-port=/-timeout=/-debug; without a name it is interactive";
  const ops = args.filter((a) => !a.startsWith("-") || a === "-");
  if (args.some((a) => a.startsWith("-") && a !== "-" && !/^-(type|query|querytype|q|port|timeout|retry|class)=[A-Za-z0-9]+$|^-(debug|nodebug|vc|novc|norecurse|recurse)$/.test(a))) return { rule: "approval.option", reason: "nslookup option not accepted", entry };
  if (ops.length < 1 || ops.length > 2 || ops[0] === "-") return { rule: "approval.never-ends", reason: "nslookup without a name is interactive", entry };
  return egress("nslookup", ops, ctx);
}

function checkTraceroute(args: string[], ctx: ToolContext): Finding | undefined {
  const entry = "traceroute/tracepath: -n -4 -6 -I -T -U, -m N, -q N, -w S; target in policy.egress.allow";
  const ops: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("-")) {
      const m = /^-([n46ITUb]*)([mqwlp])?(.*)$/.exec(a);
      if (!m) return { rule: "approval.option", reason: `traceroute ${a} is not accepted`, entry };
      if (m[2] && !m[3]) i++;
      continue;
    }
    ops.push(a);
  }
  if (ops.length < 1 || ops.length > 2) return { rule: "approval.option", reason: "traceroute takes one target", entry };
  return egress("traceroute", ops.slice(0, 1), ctx);
}

/**
 * awk with a program that can only print to stdout: no system(), getline, pipes, output
 * redirection (so no `>` at all, comparisons included), close/fflush, ENVIRON/PROCINFO, ARGV/ARGC
 * (which choose the files read), gawk's @include/@load/indirect calls; options -F and -v only
 * (gawk's --exec/--load/--dump-variables/--profile, mawk's -W and -f are refused).
 */
function checkAwk(args: string[]): Finding | undefined {
  const entry = "awk: -F SEP, -v NAME=VALUE, then a program without system/getline/|/>/close/fflush/ENVIRON/PROCINFO/ARGV/ARGC/@, then files";
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    if (/^-F.+$/.test(a)) continue;
    if (a === "-F" || a === "-v") {
      if (i + 1 >= args.length) return { rule: "approval.option", reason: `awk ${a} needs a value`, entry };
      if (a === "-v" && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i + 1])) return { rule: "approval.option", reason: "awk -v needs NAME=VALUE", entry };
      i++;
      continue;
    }
    if (/^-v[A-Za-z_][A-Za-z0-9_]*=/.test(a)) continue;
    return { rule: "approval.option", reason: `awk option ${a} is not accepted (-f reads a program file; gawk/mawk options can write files or load code)`, entry };
  }
  const program = args[i];
  if (program === undefined) return { rule: "approval.option", reason: "awk needs a program", entry };
  const bad = /\b(system|getline|close|fflush|ENVIRON|PROCINFO|ARGV|ARGC|SYMTAB|FUNCTAB)\b|[|>@`]/.exec(program);
  if (bad) return { rule: "approval.option", reason: `awk program uses ${JSON.stringify(bad[0])}: it could run commands, write files or choose other files to read`, entry };
  for (const f of args.slice(i + 1)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(f)) continue;
    const found = pathFinding(f, true);
    if (found) return found;
  }
  return undefined;
}

function checkMdadm(args: string[]): Finding | undefined {
  const entry = "mdadm: --detail/-D, --query/-Q, --examine/-E, --scan/-s, --brief/-b, --verbose/-v, --export/-Y with /dev/md* or member devices";
  if (!args.some((a) => /^(--detail|-D|--query|-Q|--examine|-E|-Ds|-Db|-Dsv|-Es)$/.test(a))) return { rule: "approval.option", reason: "only mdadm --detail/--query/--examine are read-only", entry };
  for (const a of args) {
    if (a.startsWith("-")) {
      if (!/^(--detail|-D|--query|-Q|--examine|-E|--scan|-s|--brief|-b|--verbose|-v|--export|-Y|-Ds|-Db|-Dsv|-Es)$/.test(a)) return { rule: "approval.option", reason: `mdadm ${a} is not accepted`, entry };
    } else if (!/^\/dev\/(md[0-9a-z/_-]*|sd[a-z]+\d*|nvme\d+n\d+(p\d+)?|vd[a-z]+\d*|xvd[a-z]+\d*)$/.test(normalisePath(a).path)) return { rule: "approval.option", reason: `mdadm operand ${a} is not an md or disk device`, entry };
  }
  return undefined;
}

function checkSmartctl(args: string[]): Finding | undefined {
  const entry = "smartctl: -a -x -i -H -A -c -l TYPE, --all --xall --info --health --attributes --capabilities --log=TYPE, -d TYPE, -j; a device";
  let device = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("-")) {
      if (/^-(a|x|i|H|A|c|j|q\s?\w*)$|^--(all|xall|info|health|attributes|capabilities|json|json=[a-z]+)$|^--log=[a-z,]+$|^--device=[a-z0-9,]+$/.test(a)) continue;
      if (/^-(l|d|q)$/.test(a) && /^[a-z0-9,]+$/.test(args[i + 1] ?? "")) {
        i++;
        continue;
      }
      return { rule: "approval.option", reason: `smartctl ${a} is not accepted (-s/-t/-X/-o/-S change the drive)`, entry };
    }
    if (!/^\/dev\/[a-z0-9/_-]+$/.test(normalisePath(a).path)) return { rule: "approval.option", reason: `smartctl operand ${a} is not a device`, entry };
    device++;
  }
  return device === 1 ? undefined : { rule: "approval.option", reason: "smartctl needs one device", entry };
}

function checkOpenssl(args: string[]): Finding | undefined {
  const entry = "openssl: version [-a]; x509 -noout with -text/-subject/-issuer/-dates/-enddate/-startdate/-serial/-fingerprint/-purpose/-ext/-nameopt/-checkend/-hash/-email/-ocsp_uri/-in FILE/-inform";
  if (args[0] === "version" && args.slice(1).every((a) => /^-[abvodfpcr]$/.test(a))) return undefined;
  if (args[0] !== "x509") return { rule: "approval.option", reason: `openssl ${args[0] ?? ""} is not accepted (only version and x509 -noout)`, entry };
  if (!args.includes("-noout")) return { rule: "approval.option", reason: "openssl x509 without -noout re-encodes and can write", entry };
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (/^-(noout|text|subject|issuer|dates|enddate|startdate|serial|fingerprint|sha1|sha256|md5|purpose|hash|subject_hash|issuer_hash|email|ocsp_uri|modulus|pubkey|alias|trustout|nocert|ext_list)$/.test(a)) continue;
    if (/^-(ext|nameopt|inform|checkend|certopt)$/.test(a) && /^[A-Za-z0-9_,]+$/.test(args[i + 1] ?? "")) {
      i++;
      continue;
    }
    if (a === "-in" && args[i + 1] !== undefined) {
      // x509 parses the file as a certificate: a key or other file fails without being printed.
      const p = normalisePath(args[++i]);
      if (p.escapes) return { rule: "approval.sensitive-path", reason: `${args[i]} climbs out of the working directory` };
      const s = secretClass(p.path);
      if (s && !/private key, key store/.test(s)) return { rule: "approval.sensitive-path", reason: `${args[i]} may hold ${s}` };
      if (/^\/dev\//.test(p.path) || /^\/proc\//.test(p.path)) return { rule: "approval.device", reason: `openssl -in ${p.path}` };
      continue;
    }
    return { rule: "approval.option", reason: `openssl x509 ${a} is not accepted (-out, -signkey, -req, -CA write or sign)`, entry };
  }
  return undefined;
}

/**
 * argv in normal form, for user rules: options under their canonical names (`-s` → `--set`,
 * `--se=x` → `--set x`, `ip l s` → `ip link set`), values split off, paths normalised
 * (`//etc/./x` → `/etc/x`). Words keep their order.
 */
export function normalArgv(argv: string[]): string[] {
  if (argv.length === 0) return argv;
  const name = argv[0].slice(argv[0].lastIndexOf("/") + 1);
  if (name === "ip") return [argv[0], ...ipNormal(argv.slice(1)).slice(1)];
  const t = Object.hasOwn(TOOLS, name) ? tableOf(name, TOOLS[name]) : undefined;
  if (!t) return genericNormal(argv);
  const out = [argv[0]];
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const w = args[i];
    if (w === "--") {
      out.push(...args.slice(i + 1).map(normWord));
      break;
    }
    if (w.startsWith("--")) {
      const eq = w.indexOf("=");
      const long = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      const def = resolveLongDef(t, long);
      out.push(def ? def.canonical : `--${long}`);
      if (eq >= 0) out.push(normWord(w.slice(eq + 1)));
      continue;
    }
    if (w.startsWith("-") && w.length > 1 && !/^-\d+$/.test(w)) {
      for (let k = 1; k < w.length; k++) {
        const def = t.byShort.get(w[k]);
        out.push(def ? def.canonical : `-${w[k]}`);
        if (def && def.arity !== "none") {
          if (k + 1 < w.length) out.push(normWord(w.slice(k + 1)));
          break;
        }
      }
      continue;
    }
    out.push(normWord(w));
  }
  return out;
}

function resolveLongDef(t: Table, name: string) {
  const exact = t.byLong.get(name);
  if (exact) return exact;
  if (!t.abbrev) return undefined;
  const found = t.defs.filter((d) => d.long?.startsWith(name));
  return found.length === 1 ? found[0] : undefined;
}

/** `python3 --version`, `nginx -v`: programs whose version query alone is auto-allowed. */
export const VERSION_ONLY: Record<string, RegExp> = {
  python: /^(--version|-V)$/, python3: /^(--version|-V)$/, node: /^(--version|-v)$/, nginx: /^-[vV]$/, php: /^(--version|-v)$/, perl: /^(--version|-v)$/, ruby: /^(--version|-v)$/,
  java: /^(-version|--version)$/, go: /^version$/, git: /^--version$/, bash: /^--version$/, ssh: /^-V$/, curl: /^(--version|-V)$/, gcc: /^--version$/, docker: /^(--version|-v)$/,
  apache2: /^-v$/, httpd: /^-v$/, mysql: /^(--version|-V)$/, psql: /^(--version|-V)$/, rsync: /^--version$/, tar: /^--version$/,
};

/** Enumerated values per option of a tool (for generated tests). */
export function toolValues(name: string): Record<string, readonly string[]> {
  const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
  const out: Record<string, readonly string[]> = {};
  for (const [k, v] of Object.entries(tool?.values ?? {})) if (Array.isArray(v)) out[k] = v;
  return out;
}
