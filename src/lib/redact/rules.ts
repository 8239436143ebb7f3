/**
 * Token formats with a fixed shape, one rule per provider family. The formats follow the public
 * rule sets of gitleaks (config/gitleaks.toml, MIT) and Yelp detect-secrets (Apache-2.0): each
 * rule names the upstream rule(s) it follows in `upstream`, so `scripts/redact-upstream.ts` can
 * list what a newer upstream has that we do not. The regexes are written for JavaScript (no inline
 * flags, which Node 20 lacks) and start with their literal prefix, so the regex engine itself skips
 * through text that cannot match; `keywords` are the lowercase literals the keyword prefilter
 * looks for before a rule runs at all.
 */

export interface Candidate {
  /** The whole text being scanned (invisible characters already removed). */
  text: string;
  /** Span of the would-be secret in `text`. */
  start: number;
  end: number;
  match: RegExpExecArray;
}

export interface PatternRule {
  /** Placeholder kind: `[REDACTED:<kind>-<n>]`. A function picks it per match. */
  kind: string | ((c: Candidate) => string);
  /** Lowercase literals, one of which must occur in the text for the rule to run. */
  keywords: readonly string[];
  /** Global; with the `d` flag when `group` is not 0. */
  re: RegExp;
  /** Capture group holding the secret (the first that took part, of several); 0 = the whole match. */
  group?: number | readonly number[];
  /** A character matching this right before the match means it is part of a longer word. */
  notAfter?: RegExp;
  /** Last word on a candidate: false drops it; it may move `start` or `end` (widen, trim). */
  accept?: (c: Candidate) => boolean;
  /** Upstream rule ids this follows: `gitleaks:<id>` or `detect-secrets:<Plugin>`. */
  upstream: readonly string[];
}

/** Word characters: a token glued to one of these is part of something longer. */
export const WORD = /[A-Za-z0-9_]/;
const WORD_DASH = /[A-Za-z0-9_-]/;
/** What may follow a token: not more token characters. */
const END = "(?![A-Za-z0-9_-])";

/** Widens the candidate back over `length` characters that must match `shape` and start a word. */
function takeBefore(c: Candidate, shape: RegExp, length: number): boolean {
  const start = c.start - length;
  if (start < 0 || !shape.test(c.text.slice(start, c.start)) || (start > 0 && WORD.test(c.text[start - 1]))) return false;
  c.start = start;
  return true;
}

function prefixed(kind: string, keywords: string[], source: string, upstream: string[], flags = ""): PatternRule {
  return { kind, keywords, re: new RegExp(source + END, "g" + flags), notAfter: WORD_DASH, upstream };
}

export const TOKEN_RULES: PatternRule[] = [
  // PEM private key blocks, whole block; an unterminated block runs to the end of the text (and
  // holds a stream back until its END line arrives).
  {
    kind: "private-key",
    keywords: ["-----begin"],
    re: /-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[^-]|-(?!----END))*(?:-----END[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
    upstream: ["gitleaks:private-key", "detect-secrets:PrivateKeyDetector"],
  },
  {
    kind: "aws-key",
    keywords: ["akia", "asia", "abia", "acca", "a3t"],
    re: /(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    notAfter: /[A-Za-z0-9]/,
    upstream: ["gitleaks:aws-access-token", "detect-secrets:AWSKeyDetector"],
  },
  prefixed("aws-key", ["absk"], "ABSK[A-Za-z0-9+/]{109,269}={0,2}", ["gitleaks:aws-amazon-bedrock-api-key-long-lived"]),
  prefixed("github-token", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"], "(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})", [
    "gitleaks:github-pat",
    "gitleaks:github-oauth",
    "gitleaks:github-app-token",
    "gitleaks:github-refresh-token",
    "gitleaks:github-fine-grained-pat",
    "detect-secrets:GitHubTokenDetector",
  ]),
  prefixed("gitlab-token", ["glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "gloas-", "glft-", "glimt-", "glagent-", "glsoat-", "glffct-", "gr1348941"], "(?:gl(?:pat|dt|rt|ptt|cbt|oas|ft|imt|agent|soat|ffct)-|GR1348941)[A-Za-z0-9_.-]{20,300}", [
    "gitleaks:gitlab-pat",
    "gitleaks:gitlab-pat-routable",
    "gitleaks:gitlab-deploy-token",
    "gitleaks:gitlab-runner-authentication-token",
    "gitleaks:gitlab-runner-authentication-token-routable",
    "gitleaks:gitlab-ptt",
    "gitleaks:gitlab-cicd-job-token",
    "gitleaks:gitlab-oauth-app-secret",
    "gitleaks:gitlab-feed-token",
    "gitleaks:gitlab-incoming-mail-token",
    "gitleaks:gitlab-kubernetes-agent-token",
    "gitleaks:gitlab-scim-token",
    "gitleaks:gitlab-feature-flag-client-token",
    "gitleaks:gitlab-rrt",
    "detect-secrets:GitLabTokenDetector",
  ]),
  prefixed("slack-token", ["xox", "xapp-"], "(?:xox[abposer]|xoxe\\.xox[bp]|xapp)-[A-Za-z0-9-]{10,255}", [
    "gitleaks:slack-bot-token",
    "gitleaks:slack-user-token",
    "gitleaks:slack-app-token",
    "gitleaks:slack-legacy-token",
    "gitleaks:slack-legacy-bot-token",
    "gitleaks:slack-legacy-workspace-token",
    "gitleaks:slack-config-access-token",
    "gitleaks:slack-config-refresh-token",
    "detect-secrets:SlackDetector",
  ]),
  {
    kind: "slack-webhook",
    keywords: ["hooks.slack.com"],
    re: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/_-]{20,255}/g,
    upstream: ["gitleaks:slack-webhook-url"],
  },
  {
    kind: "webhook-url",
    keywords: ["webhook.office.com", "discord.com/api/webhooks", "discordapp.com/api/webhooks"],
    re: /https:\/\/(?:[a-z0-9-]{1,63}\.webhook\.office\.com\/webhookb2\/[A-Za-z0-9@/-]{40,400}|(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d{5,30}\/[A-Za-z0-9_-]{40,100})/g,
    upstream: ["gitleaks:microsoft-teams-webhook", "detect-secrets:DiscordBotTokenDetector"],
  },
  prefixed("openai-key", ["sk-"], "sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\\d\\d-)?[A-Za-z0-9_-]{20,255}", [
    "gitleaks:openai-api-key",
    "gitleaks:anthropic-api-key",
    "gitleaks:anthropic-admin-api-key",
    "detect-secrets:OpenAIDetector",
  ]),
  prefixed("stripe-key", ["sk_live", "sk_test", "sk_prod", "rk_live", "rk_test", "rk_prod", "whsec_"], "(?:[sr]k_(?:live|test|prod)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9+/=]{24,128})", [
    "gitleaks:stripe-access-token",
    "detect-secrets:StripeDetector",
  ]),
  prefixed("google-api-key", ["aiza"], "AIza[A-Za-z0-9_-]{35}", ["gitleaks:gcp-api-key"]),
  // OAuth access tokens of Google accounts (gcloud auth print-access-token).
  prefixed("google-oauth-token", ["ya29."], "ya29\\.[A-Za-z0-9_.-]{20,2048}", []),
  prefixed("huggingface-token", ["hf_", "api_org_"], "(?:hf|api_org)_[A-Za-z]{34,40}", ["gitleaks:huggingface-access-token", "gitleaks:huggingface-organization-api-token"]),
  prefixed("npm-token", ["npm_"], "npm_[A-Za-z0-9]{36}", ["gitleaks:npm-access-token", "detect-secrets:NpmDetector"]),
  prefixed("pypi-token", ["pypi-ageichlwas5vcmc"], "pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}", ["gitleaks:pypi-upload-token", "detect-secrets:PypiTokenDetector"]),
  prefixed("rubygems-token", ["rubygems_"], "rubygems_[a-f0-9]{48}", ["gitleaks:rubygems-api-token"]),
  prefixed("digitalocean-token", ["dop_v1_", "doo_v1_", "dor_v1_"], "do[opr]_v1_[a-f0-9]{64}", ["gitleaks:digitalocean-pat", "gitleaks:digitalocean-access-token", "gitleaks:digitalocean-refresh-token"]),
  prefixed("sendgrid-key", ["sg."], "SG\\.[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{16,64}", ["gitleaks:sendgrid-api-token", "detect-secrets:SendGridDetector"]),
  prefixed("sendinblue-key", ["xkeysib-"], "xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", ["gitleaks:sendinblue-api-token"]),
  prefixed("twilio-key", ["sk"], "SK[0-9a-fA-F]{32}", ["gitleaks:twilio-api-key", "detect-secrets:TwilioKeyDetector"]),
  prefixed("shopify-token", ["shpat_", "shpca_", "shppa_", "shpss_"], "shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", [
    "gitleaks:shopify-access-token",
    "gitleaks:shopify-custom-access-token",
    "gitleaks:shopify-private-app-access-token",
    "gitleaks:shopify-shared-secret",
  ]),
  prefixed("linear-key", ["lin_api_"], "lin_api_[A-Za-z0-9]{40}", ["gitleaks:linear-api-key"]),
  prefixed("vault-token", ["hvs.", "hvb."], "hv[sb]\\.[A-Za-z0-9_-]{90,300}", ["gitleaks:vault-service-token", "gitleaks:vault-batch-token"]),
  // These two start with a literal in the middle: the regex begins there (so the engine can
  // skip ahead to it) and the few characters before it are checked and taken afterwards.
  {
    kind: "terraform-token",
    keywords: ["atlasv1"],
    re: /\.atlasv1\.[A-Za-z0-9_=-]{60,70}(?![A-Za-z0-9_-])/g,
    accept: (c) => takeBefore(c, /^[A-Za-z0-9]{14}$/, 14),
    upstream: ["gitleaks:hashicorp-tf-api-token"],
  },
  prefixed("pulumi-token", ["pul-"], "pul-[a-f0-9]{40}", ["gitleaks:pulumi-api-token"]),
  prefixed("planetscale-token", ["pscale_"], "pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,64}", ["gitleaks:planetscale-api-token", "gitleaks:planetscale-oauth-token", "gitleaks:planetscale-password"]),
  prefixed("postman-key", ["pmak-"], "PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}", ["gitleaks:postman-api-token"]),
  prefixed("grafana-token", ["glc_", "glsa_", "eyjrijoi"], "(?:glc_[A-Za-z0-9+/]{32,400}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,400}={0,3})", [
    "gitleaks:grafana-cloud-api-token",
    "gitleaks:grafana-service-account-token",
    "gitleaks:grafana-api-key",
  ]),
  prefixed("sentry-token", ["sntrys_", "sntryu_"], "(?:sntrys_eyJ[A-Za-z0-9+/=_]{30,400}|sntryu_[a-f0-9]{64})", ["gitleaks:sentry-org-token", "gitleaks:sentry-user-token"]),
  prefixed("age-key", ["age-secret-key-1"], "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", ["gitleaks:age-secret-key"]),
  prefixed("1password-token", ["ops_eyj", "a3-"], "(?:ops_eyJ[A-Za-z0-9+/]{250,4096}={0,3}|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})", [
    "gitleaks:1password-service-account-token",
    "gitleaks:1password-secret-key",
  ]),
  prefixed("heroku-key", ["hrku-"], "HRKU-AA[A-Za-z0-9_-]{58}", ["gitleaks:heroku-api-key-v2"]),
  prefixed("flyio-token", ["fo1_", "fm1", "fm2_"], "(?:fo1_[A-Za-z0-9_-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,4096}={0,3}|fm2_[A-Za-z0-9+/]{100,4096}={0,3})", ["gitleaks:flyio-access-token"]),
  prefixed("square-token", ["sq0atp-", "sq0csp-", "eaaa"], "(?:sq0atp-[A-Za-z0-9_-]{22,60}|sq0csp-[A-Za-z0-9_-]{43}|EAAA[A-Za-z0-9_-]{60})", ["gitleaks:square-access-token", "detect-secrets:SquareOAuthDetector"]),
  prefixed("databricks-token", ["dapi"], "dapi[a-f0-9]{32}(?:-\\d)?", ["gitleaks:databricks-api-token"]),
  prefixed("doppler-token", ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."], "dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}", ["gitleaks:doppler-api-token"]),
  prefixed("dynatrace-token", ["dt0c01."], "dt0c01\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{64}", ["gitleaks:dynatrace-api-token"]),
  prefixed("alibaba-key", ["ltai"], "LTAI[A-Za-z0-9]{20}", ["gitleaks:alibaba-access-key-id"]),
  prefixed("artifactory-key", ["akcp", "cmvmd"], "(?:AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})", ["gitleaks:artifactory-api-key", "gitleaks:artifactory-reference-token", "detect-secrets:ArtifactoryDetector"]),
  prefixed("newrelic-key", ["nrak-", "nrii-", "nrjs-"], "NR(?:AK|II|JS)-[A-Za-z0-9]{19,32}", ["gitleaks:new-relic-user-api-key", "gitleaks:new-relic-insert-key", "gitleaks:new-relic-browser-api-token"]),
  prefixed("perplexity-key", ["pplx-"], "pplx-[A-Za-z0-9]{48}", ["gitleaks:perplexity-api-key"]),
  prefixed("notion-token", ["ntn_", "secret_"], "(?:ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})", ["gitleaks:notion-api-token"]),
  {
    kind: "azure-ad-secret",
    keywords: ["q~"],
    re: /Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g,
    accept: (c) => takeBefore(c, /^[A-Za-z0-9_~.]{3}[0-9]$/, 4),
    upstream: ["gitleaks:azure-ad-client-secret"],
  },
  // Bot id (public) and secret; only the secret after the colon is replaced.
  {
    kind: "telegram-token",
    keywords: [":aa"],
    re: /:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])(?<=[0-9]{8,10}:AA[A-Za-z0-9_-]{33})/g,
    accept: (c) => {
      c.start += 1; // the colon
      return true;
    },
    upstream: ["gitleaks:telegram-bot-api-token", "detect-secrets:TelegramBotTokenDetector"],
  },
  prefixed("clojars-token", ["clojars_"], "CLOJARS_[A-Za-z0-9]{60}", ["gitleaks:clojars-api-token"]),
  prefixed("openshift-token", ["sha256~"], "sha256~[A-Za-z0-9_-]{43}", ["gitleaks:openshift-user-token"]),
  {
    kind: "jwt",
    keywords: ["eyj"],
    re: /eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{0,2048}(?![A-Za-z0-9_-])/g,
    notAfter: WORD_DASH,
    upstream: ["gitleaks:jwt", "detect-secrets:JwtTokenDetector"],
  },
];

/** AWS secret access keys have no prefix: here, after their key name (the detectors find them alone). */
export const AWS_SECRET_AFTER_NAME: PatternRule = {
  kind: "aws-secret",
  keywords: ["aws"],
  re: /aws_?secret(?:_?access)?_?key["']?\s{0,5}[:=]\s{0,5}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
  group: 1,
  upstream: ["detect-secrets:AWSKeyDetector"],
};
