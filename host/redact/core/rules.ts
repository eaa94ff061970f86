// The argument redaction rules: ONE source compiled twice — by tsc for the host
// (`procflow trace --redact`, the plain-TypeScript side of the benchmark) and by
// asc into the built-in redact-args plugin (plugins/builtin/redact-args/assembly/core
// is a symlink to this folder), so both give identical output by construction.
// That is why it is one file (asc cannot resolve tsc's `./x.js` imports) written in
// the common subset: i32 indices (an alias of number for tsc, as-types.d.ts), no
// RegExp, no closures, no optional chaining, Map reads guarded by has(), `==` on
// strings, and no heap objects at module level (the plugin's arena is reset after
// every call; string literals are static and fine). docs/redaction.md describes
// the rules, modes and policies.

// ---- rule ids (counted per batch; names in RULE_NAMES order) ----

/** `--password=x`, `--password x`, `-storepass x`: a flag naming a secret. */
export const RULE_FLAG: i32 = 0;
/** Tool-specific short flags: mysql `-pX`, sshpass/mongo/docker login `-p X`, redis-cli `-a X`, ldap `-w X`, sqlcmd `-P X`. */
export const RULE_SHORT_FLAG: i32 = 1;
/** `-u user:pass` (curl), `--auth user:pass` (httpie), `-u user,pass` (lftp), `-U user%pass` (smbclient). */
export const RULE_USER_PASS: i32 = 2;
/** `KEY=value` where KEY names a secret (env-style args, `--from-literal=password=x`, helm `--set a.password=x`). */
export const RULE_KEY_VALUE: i32 = 3;
/** `-D…password=…` JVM system properties. */
export const RULE_JVM: i32 = 4;
/** `scheme://user:SECRET@host`. */
export const RULE_URL_USERINFO: i32 = 5;
/** `?access_token=SECRET&…` query parameters naming a secret. */
export const RULE_URL_QUERY: i32 = 6;
/** `Authorization: Bearer SECRET`, `X-Api-Key: SECRET`, `Cookie: …`. */
export const RULE_HEADER: i32 = 7;
/** JSON Web Tokens. */
export const RULE_JWT: i32 = 8;
/** AWS access key ids (AKIA…/ASIA…). */
export const RULE_AWS_KEY: i32 = 9;
/** GitHub tokens (ghp_/gho_/ghu_/ghs_/ghr_, github_pat_). */
export const RULE_GITHUB: i32 = 10;
/** GitLab personal access tokens (glpat-). */
export const RULE_GITLAB: i32 = 11;
/** Slack tokens (xoxb-/xoxp-/xoxa-/xoxo-/xoxs-/xoxr-). */
export const RULE_SLACK: i32 = 12;
/** Google API keys (AIza…). */
export const RULE_GOOGLE: i32 = 13;
/** Stripe secret/restricted keys (sk_live_, sk_test_, rk_live_, rk_test_). */
export const RULE_STRIPE: i32 = 14;
/** npm tokens (npm_), HashiCorp Vault tokens (hvs.), Docker Hub PATs (dckr_pat_). */
export const RULE_OTHER_TOKEN: i32 = 15;
/** PEM private key blocks (the body between BEGIN and END). */
export const RULE_PEM: i32 = 16;
/** Positional secrets: sqlplus `user/SECRET@db`, `… config set KEY SECRET`. */
export const RULE_POSITIONAL: i32 = 17;
/** Policy: extra flag names. */
export const RULE_POLICY_FLAG: i32 = 18;
/** Policy: extra KEY names. */
export const RULE_POLICY_KEY: i32 = 19;
/** Policy: masked argument positions. */
export const RULE_POLICY_POSITION: i32 = 20;
/** Policy: template patterns. */
export const RULE_POLICY_PATTERN: i32 = 21;
/** Number of rules. */
export const RULE_COUNT: i32 = 22;

/** Rule names, comma-separated, in id order (the keys of the counted summary). */
export const RULE_NAMES: string = "flag,short-flag,user-pass,key-value,jvm-property,url-userinfo,url-query,auth-header,jwt,aws-access-key,github-token,gitlab-token,slack-token,google-api-key,stripe-key,other-token,private-key-block,positional,policy-flag,policy-key,policy-position,policy-pattern";

/** The log prefix of the per-batch counted summary (the host recognises it and does not forward the line). */
export const SUMMARY_PREFIX: string = "redact-summary ";

/** Replacement modes. */
export const MODE_MASK: i32 = 0;
export const MODE_HASH: i32 = 1;
export const MODE_DROP_ARGS: i32 = 2;

/** Nesting limit of shell strings inside shell strings. */
const MAX_DEPTH: i32 = 3;

// ---- characters and comma-separated word lists (no allocation) ----

function isSpace(c: i32): boolean {
  return c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12;
}
function isDigit(c: i32): boolean {
  return c >= 48 && c <= 57;
}
function isUpper(c: i32): boolean {
  return c >= 65 && c <= 90;
}
function isLetter(c: i32): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isAlnum(c: i32): boolean {
  return isLetter(c) || isDigit(c);
}
/** base64url alphabet: letters, digits, `-`, `_`. */
function isB64url(c: i32): boolean {
  return isAlnum(c) || c == 45 || c == 95;
}
/** Characters of a key or flag name: letters, digits, `_`, `.`, `-`. */
function isKeyChar(c: i32): boolean {
  return isAlnum(c) || c == 95 || c == 46 || c == 45;
}

function hasSpace(s: string): boolean {
  for (let i: i32 = 0; i < s.length; i++) if (isSpace(s.charCodeAt(i))) return true;
  return false;
}

const EQ: i32 = 0;
const ENDS: i32 = 1;

/** s[at, at+n) equals list[a, a+n). */
function regionEq(s: string, at: i32, list: string, a: i32, n: i32): boolean {
  for (let k: i32 = 0; k < n; k++) if (s.charCodeAt(at + k) != list.charCodeAt(a + k)) return false;
  return true;
}

// Word lists as arrays: constant array literals are static data in the plugin (no per-call allocation).
const SIGNATURE_QUERY_NAMES: string[] = ["SIG", "SIGNATURE", "X_AMZ_SIGNATURE", "X_GOOG_SIGNATURE", "KEY", "CODE"];
// Header names holding a credential besides secret names, by first letter (headerWordIn): AUTHORIZATION, AUTHENTICATION, COOKIE, X_API_KEY, PRIVATE_TOKEN.
const HEADER_A: string[] = ["AUTHORIZATION", "AUTHENTICATION"];
const HEADER_C: string[] = ["COOKIE"];
const HEADER_P: string[] = ["PRIVATE_TOKEN"];
const HEADER_X: string[] = ["X_API_KEY"];
const SETTING_WORDS: string[] = ["yes", "no", "true", "false", "on", "off"];

/** Whether `s` equals (EQ) / ends with (ENDS) an entry of `list`. */
function listMatch(s: string, list: string[], how: i32): boolean {
  const len = s.length;
  for (let e: i32 = 0; e < list.length; e++) {
    const w = list[e];
    const n = w.length;
    if (n == 0 || n > len) continue;
    if (how == EQ) {
      if (n == len && regionEq(s, 0, w, 0, n)) return true;
    } else if (regionEq(s, len - n, w, 0, n)) return true;
  }
  return false;
}

/** The file name of a path. */
export function baseName(path: string): string {
  let slash: i32 = path.length - 1;
  while (slash >= 0 && path.charCodeAt(slash) != 47) slash--;
  return slash >= 0 ? path.substring(slash + 1) : path;
}

/** A flag or key name normalised for matching: upper case, `-` and `.` as `_`. */
export function normName(name: string): string {
  return name.toUpperCase().split("-").join("_").split(".").join("_");
}

// Names are matched in place, without a normalised copy: `nc` maps an ASCII
// character as normName does, and the n… functions compare a region s[a, b)
// read through it with a word that is already normalised. A region with a
// non-ASCII character is normalised by normName first (Redactor.norm): nc is
// the identity on normName's output, so both paths compare the same text.

/** Character `c` as normName maps it (ASCII): upper case, `-` and `.` as `_`. */
function nc(c: i32): i32 {
  if (c >= 97 && c <= 122) return c - 32;
  return c == 45 || c == 46 ? 95 : c;
}
/** The normalised s[at, at + w.length) equals `w`. */
function nAt(s: string, at: i32, w: string): boolean {
  for (let k: i32 = 0; k < w.length; k++) if (nc(s.charCodeAt(at + k)) != w.charCodeAt(k)) return false;
  return true;
}
function nEq(s: string, a: i32, b: i32, w: string): boolean {
  return b - a == w.length && nAt(s, a, w);
}
function nStarts(s: string, a: i32, b: i32, w: string): boolean {
  return w.length <= b - a && nAt(s, a, w);
}
function nEnds(s: string, a: i32, b: i32, w: string): boolean {
  return w.length <= b - a && nAt(s, b - w.length, w);
}
/** listMatch on the normalised region s[a, b). */
function nList(s: string, a: i32, b: i32, list: string[], how: i32): boolean {
  const len = b - a;
  const last = len > 0 ? nc(s.charCodeAt(b - 1)) : -1;
  for (let e: i32 = 0; e < list.length; e++) {
    const w = list[e];
    const n = w.length;
    if (n == 0 || n > len) continue;
    if (how == EQ) {
      if (n == len && nAt(s, a, w)) return true;
    } else if (w.charCodeAt(n - 1) == last && nAt(s, b - n, w)) return true;
  }
  return false;
}
/** s[a, b) is exactly `w` (no normalisation). */
function regionIs(s: string, a: i32, b: i32, w: string): boolean {
  return b - a == w.length && regionEq(s, a, w, 0, w.length);
}
/** The first index >= `from` of character `c`, or -1 (AssemblyScript's indexOf compares a substring at every position). */
function findChar(s: string, c: i32, from: i32): i32 {
  for (let i = from < 0 ? 0 : from; i < s.length; i++) if (s.charCodeAt(i) == c) return i;
  return -1;
}
/** s.indexOf(w, from) for a non-empty `w`, without AssemblyScript's compare at every position. */
function findStr(s: string, w: string, from: i32): i32 {
  const c0 = w.charCodeAt(0);
  const n = w.length;
  for (let i = from < 0 ? 0 : from; i + n <= s.length; i++) if (s.charCodeAt(i) == c0 && regionEq(s, i, w, 0, n)) return i;
  return -1;
}

// ---- which names are secrets ----

// The words that make a name a secret (docs/redaction.md), by first letter: secretPositive compares at a
// position only the words starting with its letter.
const SECRET_A: string[] = ["APIKEY", "API_KEY", "ACCESS_KEY", "ACCESSKEY", "ACCOUNT_KEY", "ACCOUNTKEY", "AUTHORIZATION"];
const SECRET_B: string[] = ["BEARER"];
const SECRET_C: string[] = ["CREDENTIAL", "CONNECTION_STRING", "CONNECTIONSTRING"];
const SECRET_L: string[] = ["LICENSE_KEY", "LICENSEKEY"];
const SECRET_M: string[] = ["MASTER_KEY"];
const SECRET_P: string[] = ["PASSWORD", "PASSWD", "PASSPHRASE", "PRIVATE_KEY", "PRIVATEKEY"];
const SECRET_S: string[] = ["SECRET", "SHARED_KEY", "SIGNATURE"];
const SECRET_T: string[] = ["TOKEN"];
// A name ending like this is about a secret without being one (its file, name, id, type, lifetime, …), by last letter (notSecretSuffix).
const NOT_SECRET_B: string[] = ["_DB"];
const NOT_SECRET_D: string[] = ["_ID", "COMMAND", "_CMD", "METHOD", "_ENABLED", "_KIND"];
const NOT_SECRET_E: string[] = ["FILE", "TYPE", "MODE", "NAME", "_STORE", "LIFETIME", "_SCOPE", "_SOURCE", "_DATABASE", "_SIZE"];
const NOT_SECRET_F: string[] = ["_REF"];
const NOT_SECRET_H: string[] = ["PATH", "LENGTH", "_HASH"];
const NOT_SECRET_I: string[] = ["_URI"];
const NOT_SECRET_L: string[] = ["_URL", "TTL", "_EMAIL", "_LABEL"];
const NOT_SECRET_M: string[] = ["MECHANISM"];
const NOT_SECRET_N: string[] = ["STDIN", "VERSION", "DURATION", "LOCATION", "_REGION", "ROTATION", "AUTHENTICATION"];
const NOT_SECRET_R: string[] = ["DIR", "HELPER", "_USER", "PROVIDER", "_HEADER"];
const NOT_SECRET_S: string[] = ["_IDS", "EXPIRES", "_SCOPES", "ASKPASS"];
const NOT_SECRET_T: string[] = ["PROMPT", "FORMAT", "ENDPOINT", "_HOST", "_PORT", "TIMEOUT", "_COUNT", "_LIMIT"];
const NOT_SECRET_V: string[] = ["_ENV"];
const NOT_SECRET_Y: string[] = ["POLICY", "_ONLY", "EXPIRY"];
const NOT_SECRET_NAMES: string[] = ["PWD", "OLDPWD", "WITH_TOKEN", "BYPASS", "COMPASS", "TOKENIZER", "TOKENS", "PASS_THROUGH"];

/** Whether a normalised flag or key name names a secret (docs/redaction.md lists the words). */
export function secretName(norm: string): boolean {
  return secretNameAt(norm, 0, norm.length);
}

/** secretName of the normalised region s[a, b). */
function secretNameAt(s: string, a: i32, b: i32): boolean {
  if (b - a < 3) return false;
  if (nStarts(s, a, b, "NO_") || nStarts(s, a, b, "_NO_")) return false;
  // The positive tests first (one pass): most flags name no secret, and the exceptions below are longer lists.
  if (!secretPositive(s, a, b)) return false;
  return !(nList(s, a, b, NOT_SECRET_NAMES, EQ) || notSecretSuffix(s, a, b));
}

/** The normalised region s[a, b) ends with a NOT_SECRET_… suffix. */
function notSecretSuffix(s: string, a: i32, b: i32): boolean {
  switch (nc(s.charCodeAt(b - 1))) {
    case 66: return nList(s, a, b, NOT_SECRET_B, ENDS);
    case 68: return nList(s, a, b, NOT_SECRET_D, ENDS);
    case 69: return nList(s, a, b, NOT_SECRET_E, ENDS);
    case 70: return nList(s, a, b, NOT_SECRET_F, ENDS);
    case 72: return nList(s, a, b, NOT_SECRET_H, ENDS);
    case 73: return nList(s, a, b, NOT_SECRET_I, ENDS);
    case 76: return nList(s, a, b, NOT_SECRET_L, ENDS);
    case 77: return nList(s, a, b, NOT_SECRET_M, ENDS);
    case 78: return nList(s, a, b, NOT_SECRET_N, ENDS);
    case 82: return nList(s, a, b, NOT_SECRET_R, ENDS);
    case 83: return nList(s, a, b, NOT_SECRET_S, ENDS);
    case 84: return nList(s, a, b, NOT_SECRET_T, ENDS);
    case 86: return nList(s, a, b, NOT_SECRET_V, ENDS);
    case 89: return nList(s, a, b, NOT_SECRET_Y, ENDS);
    default: return false;
  }
}

/** A word of `list` starts at the normalised s[at…] and ends by `b`. */
function wordAtIn(s: string, at: i32, b: i32, list: string[]): boolean {
  for (let e: i32 = 0; e < list.length; e++) {
    const w = list[e];
    if (at + w.length <= b && nAt(s, at, w)) return true;
  }
  return false;
}

/**
 * The positive half of secretNameAt in one pass over the normalised region s[a, b) (at least 3 long): it
 * contains a secret word (SECRET_A … SECRET_T); or ends in PWD, or in PASS but not BYPASS (MYSQL_PWD,
 * SSHPASS, -storepass); or is PASSIN / PASSOUT (openssl); or has AUTH as a word — AUTH_ at the start,
 * _AUTH at the end, _AUTH_ inside (REDISCLI_AUTH, NPM_CONFIG__AUTH; a bare AUTH is user[:pass], see
 * userPassLong: each of the three makes the name longer than AUTH).
 */
function secretPositive(s: string, a: i32, b: i32): boolean {
  for (let at = a; at + 3 <= b; at++) {
    switch (nc(s.charCodeAt(at))) {
      case 65: {
        if (wordAtIn(s, at, b, SECRET_A)) return true;
        if (at + 4 <= b && nAt(s, at, "AUTH")) {
          const after: i32 = at + 4 < b ? nc(s.charCodeAt(at + 4)) : -1;
          if (at == a ? after == 95 : nc(s.charCodeAt(at - 1)) == 95 && (at + 4 == b || after == 95)) return true;
        }
        break;
      }
      case 66: if (wordAtIn(s, at, b, SECRET_B)) return true; break;
      case 67: if (wordAtIn(s, at, b, SECRET_C)) return true; break;
      case 76: if (wordAtIn(s, at, b, SECRET_L)) return true; break;
      case 77: if (wordAtIn(s, at, b, SECRET_M)) return true; break;
      case 80: {
        if (wordAtIn(s, at, b, SECRET_P)) return true;
        if (at + 3 == b && nAt(s, at, "PWD")) return true;
        if (at + 4 == b && nAt(s, at, "PASS") && !(at - 2 >= a && nAt(s, at - 2, "BYPASS"))) return true;
        if (at == a && (nEq(s, a, b, "PASSIN") || nEq(s, a, b, "PASSOUT"))) return true;
        break;
      }
      case 83: if (wordAtIn(s, at, b, SECRET_S)) return true; break;
      case 84: if (wordAtIn(s, at, b, SECRET_T)) return true; break;
      default: break;
    }
  }
  return false;
}

/** The normalised region s[a, b) contains a word of HEADER_A … HEADER_X. */
function headerWordIn(s: string, a: i32, b: i32): boolean {
  for (let at = a; at + 6 <= b; at++) { // COOKIE is the shortest
    switch (nc(s.charCodeAt(at))) {
      case 65: if (wordAtIn(s, at, b, HEADER_A)) return true; break;
      case 67: if (wordAtIn(s, at, b, HEADER_C)) return true; break;
      case 80: if (wordAtIn(s, at, b, HEADER_P)) return true; break;
      case 88: if (wordAtIn(s, at, b, HEADER_X)) return true; break;
      default: break;
    }
  }
  return false;
}

/** Query parameters that carry a secret besides secret names: signatures of pre-signed URLs. */
function secretQueryNameAt(s: string, a: i32, b: i32): boolean {
  return secretNameAt(s, a, b) || nList(s, a, b, SIGNATURE_QUERY_NAMES, EQ);
}

/** HTTP header names whose value is a credential. */
function secretHeaderAt(s: string, a: i32, b: i32): boolean {
  return secretNameAt(s, a, b) || headerWordIn(s, a, b);
}

// ---- tools ----

const MYSQL_TOOLS: string[] = ["mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlcheck", "mysqlshow", "mysqlpump", "mysqlslap", "mysqlbinlog", "mariadb", "mariadb-dump", "mariadb-admin", "mariadb-import", "mariadb-check", "mariadb-show", "mariadb-slap"];
const PG_TOOLS: string[] = ["psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_basebackup", "createdb", "dropdb", "createuser", "dropuser", "vacuumdb", "reindexdb", "clusterdb", "pg_isready", "pgbench"];
const LOGIN_TOOLS: string[] = ["docker", "podman", "buildah", "skopeo", "nerdctl", "oc", "helm", "crane", "az", "cf", "regctl", "oras"];
const DASH_P_TOOLS: string[] = ["sshpass", "cqlsh", "twine", "mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport", "mongostat", "mongotop", "mongofiles", "rabbitmqadmin", "rdesktop"];
const DASH_A_TOOLS: string[] = ["redis-cli", "valkey-cli", "keydb-cli"];
const LDAP_TOOLS: string[] = ["ldapsearch", "ldapadd", "ldapmodify", "ldapdelete", "ldapwhoami", "ldappasswd", "ldapcompare", "ldapmodrdn", "ldapexop"];
const DASH_BIG_P_TOOLS: string[] = ["sqlcmd", "bcp", "ipmitool", "zip", "unzip", "mosquitto_pub", "mosquitto_sub", "mosquitto_rr"];
const ZIP7_TOOLS: string[] = ["7z", "7za", "7zr"];
const ORACLE_TOOLS: string[] = ["sqlplus", "rman", "expdp", "impdp", "sqlldr", "exp", "imp", "dgmgrl"];
const HTTPIE_TOOLS: string[] = ["http", "https", "httpie", "xh", "xhs"];
const SHELL_WRAPPERS: string[] = ["sudo", "env", "exec", "nohup", "time", "nice", "command", "doas", "chroot", "setsid", "stdbuf", "ionice", "strace", "watch"];

const SPEC_NONE: i32 = 0;
const SPEC_ATTACHED: i32 = 1; // -pSECRET only (a bare -p prompts)
const SPEC_BOTH: i32 = 2; // -pSECRET or -p SECRET
const SPEC_USER_COLON: i32 = 3; // -u user:SECRET
const SPEC_USER_COMMA: i32 = 4; // -u user,SECRET
const SPEC_USER_PERCENT: i32 = 5; // -U user%SECRET

/** What a tool's one-letter flag carries. */
function shortSpec(tool: string, letter: i32, login: boolean): i32 {
  if (letter == 112) { // p
    if (listMatch(tool, MYSQL_TOOLS, EQ) || listMatch(tool, ZIP7_TOOLS, EQ)) return SPEC_ATTACHED;
    if (listMatch(tool, DASH_P_TOOLS, EQ)) return SPEC_BOTH;
    if (login && listMatch(tool, LOGIN_TOOLS, EQ)) return SPEC_BOTH;
  } else if (letter == 97) { // a
    if (listMatch(tool, DASH_A_TOOLS, EQ)) return SPEC_BOTH;
    if (listMatch(tool, HTTPIE_TOOLS, EQ)) return SPEC_USER_COLON;
  } else if (letter == 119) { // w
    if (listMatch(tool, LDAP_TOOLS, EQ)) return SPEC_BOTH;
  } else if (letter == 80) { // P
    if (listMatch(tool, DASH_BIG_P_TOOLS, EQ)) return SPEC_BOTH;
  } else if (letter == 117) { // u
    if (tool == "curl") return SPEC_USER_COLON;
    if (tool == "lftp") return SPEC_USER_COMMA;
  } else if (letter == 85) { // U
    if (tool == "curl") return SPEC_USER_COLON;
    if (tool == "smbclient" || tool == "rpcclient") return SPEC_USER_PERCENT;
  }
  return SPEC_NONE;
}

/** Long flags holding `user:secret` (normalised name s[a, b)): `--auth` (any tool), curl's `--user` / `--proxy-user`. */
function userPassLong(tool: string, s: string, a: i32, b: i32): boolean {
  const last = b > a ? nc(s.charCodeAt(b - 1)) : 0;
  if (last != 72 && last != 83 && last != 82) return false; // every name below ends in H, S or R
  if (nEq(s, a, b, "AUTH") || nEq(s, a, b, "BASIC_AUTH") || nEq(s, a, b, "CREDS") || nEnds(s, a, b, "_CREDS")) return true; // skopeo --src-creds
  return tool == "curl" && (nEq(s, a, b, "USER") || nEq(s, a, b, "PROXY_USER"));
}

/** Flags whose value is a connection URI (`--uri`, `--url`, `--dsn`, `--connect`; normalised name s[a, b)). */
function uriName(s: string, a: i32, b: i32): boolean {
  const last = b > a ? nc(s.charCodeAt(b - 1)) : 0;
  if (last != 73 && last != 76 && last != 78 && last != 84) return false; // every name below ends in I, L, N or T
  return nEnds(s, a, b, "URI") || nEnds(s, a, b, "URL") || nEnds(s, a, b, "DSN") || nEq(s, a, b, "CONNECT") || nEq(s, a, b, "CONNECTION");
}

const SETTING_MAX: i32 = 5; // the longest of SETTING_WORDS

/** s[from, end) is a setting (`yes`, `off`, …: case-insensitive), not a secret. */
function settingWord(s: string, from: i32): boolean {
  const len = s.length - from;
  if (len > 2 * SETTING_MAX) return false; // what both paths below answer
  for (let k = from; k < s.length; k++) {
    // toLowerCase never shortens a string, and no non-ASCII character lowers to a setting's letters: the old path for those
    if (s.charCodeAt(k) >= 128) return len <= 2 * SETTING_MAX && listMatch(s.substring(from).toLowerCase(), SETTING_WORDS, EQ);
  }
  if (len > SETTING_MAX) return false;
  for (let e: i32 = 0; e < SETTING_WORDS.length; e++) {
    const w = SETTING_WORDS[e];
    if (w.length != len) continue;
    let k: i32 = 0;
    while (k < len) {
      const c = s.charCodeAt(from + k);
      if ((c >= 65 && c <= 90 ? c + 32 : c) != w.charCodeAt(k)) break;
      k++;
    }
    if (k == len) return true;
  }
  return false;
}

/** listMatch(tool, ORACLE_TOOLS, EQ), most tools rejected on their first letter (every entry starts with d e i r or s). */
function oracleTool(tool: string): boolean {
  const c = tool.length > 0 ? tool.charCodeAt(0) : 0;
  return (c == 100 || c == 101 || c == 105 || c == 114 || c == 115) && listMatch(tool, ORACLE_TOOLS, EQ);
}

/** The file name of the path s (from its last `/`) is an entry of SHELL_WRAPPERS; without baseName's copy. */
function wrapperWord(s: string): boolean {
  let a: i32 = s.length;
  while (a > 0 && s.charCodeAt(a - 1) != 47) a--;
  const n = s.length - a;
  for (let e: i32 = 0; e < SHELL_WRAPPERS.length; e++) {
    const w = SHELL_WRAPPERS[e];
    if (w.length == n && regionEq(s, a, w, 0, n)) return true;
  }
  return false;
}

/** An argument is `login` (`docker login -p …`). */
function hasLogin(args: string[]): boolean {
  for (let i: i32 = 0; i < args.length; i++) if (args[i].length == 5 && args[i] == "login") return true;
  return false;
}

/** Tools whose `--password` (without `=`) is a switch that prompts, not a flag with a value. */
function passwordIsSwitch(tool: string): boolean {
  return listMatch(tool, MYSQL_TOOLS, EQ) || listMatch(tool, PG_TOOLS, EQ);
}

// ---- token shapes ----

function runOf(s: string, from: i32, kind: i32): i32 {
  let i = from;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const ok = kind == 0 ? isAlnum(c) : kind == 1 ? isB64url(c) : kind == 2 ? (isUpper(c) || isDigit(c)) : kind == 3 ? (isAlnum(c) || c == 95) : (isAlnum(c) || c == 45);
    if (!ok) break;
    i++;
  }
  return i;
}

/** Whether s[i, i+2) begins a token shape (shapeAt's prefixes: eyJ, AKIA/ASIA/AIza, gh?_/github_pat_/glpat-, xox, sk_/rk_, npm_, hvs., dckr_pat_). */
function shapeStart(s: string, i: i32): boolean {
  const c = s.charCodeAt(i);
  if (c < 65) return false;
  const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
  if (c == 101) return d == 121; // ey
  if (c == 65) return d == 75 || d == 83 || d == 73; // AK AS AI
  if (c == 103) return d == 104 || d == 105 || d == 108; // gh gi gl
  if (c == 120) return d == 111; // xo
  if (c == 115 || c == 114) return d == 107; // sk rk
  if (c == 110) return d == 112; // np
  if (c == 104) return d == 118; // hv
  if (c == 100) return d == 99; // dc
  return false;
}

/** If a token shape starts at `i`, its end (exclusive), with its rule in `shapeRule`; else -1. */
function shapeAt(s: string, i: i32, out: Redactor): i32 {
  const c = s.charCodeAt(i);
  if (c == 101 && s.startsWith("eyJ", i)) { // JWT: header.payload.signature
    const a = runOf(s, i, 1);
    if (a - i < 10 || a >= s.length || s.charCodeAt(a) != 46) return -1;
    const b = runOf(s, a + 1, 1);
    if (b - a - 1 < 4 || b >= s.length || s.charCodeAt(b) != 46) return -1;
    out.shapeRule = RULE_JWT;
    return runOf(s, b + 1, 1);
  }
  if (c == 65) {
    if (s.startsWith("AKIA", i) || s.startsWith("ASIA", i)) {
      const e = runOf(s, i + 4, 2);
      if (e - i - 4 == 16 && (e >= s.length || !isAlnum(s.charCodeAt(e)))) { out.shapeRule = RULE_AWS_KEY; return e; }
      return -1;
    }
    if (s.startsWith("AIza", i)) {
      const e = runOf(s, i + 4, 1);
      if (e - i - 4 >= 35) { out.shapeRule = RULE_GOOGLE; return e; }
    }
    return -1;
  }
  if (c == 103) {
    if (s.startsWith("gh", i) && i + 3 < s.length && s.charCodeAt(i + 3) == 95 && "pousr".indexOf(s.charAt(i + 2)) >= 0) {
      const e = runOf(s, i + 4, 0);
      if (e - i - 4 >= 30) { out.shapeRule = RULE_GITHUB; return e; }
      return -1;
    }
    if (s.startsWith("github_pat_", i)) {
      const e = runOf(s, i + 11, 3);
      if (e - i - 11 >= 22) { out.shapeRule = RULE_GITHUB; return e; }
      return -1;
    }
    if (s.startsWith("glpat-", i)) {
      const e = runOf(s, i + 6, 1);
      if (e - i - 6 >= 20) { out.shapeRule = RULE_GITLAB; return e; }
    }
    return -1;
  }
  if (c == 120 && s.startsWith("xox", i) && i + 4 < s.length && s.charCodeAt(i + 4) == 45 && "abposr".indexOf(s.charAt(i + 3)) >= 0) {
    const e = runOf(s, i + 5, 4);
    if (e - i - 5 >= 10) { out.shapeRule = RULE_SLACK; return e; }
    return -1;
  }
  if ((c == 115 || c == 114) && (s.startsWith("sk_live_", i) || s.startsWith("sk_test_", i) || s.startsWith("rk_live_", i) || s.startsWith("rk_test_", i))) {
    const e = runOf(s, i + 8, 0);
    if (e - i - 8 >= 16) { out.shapeRule = RULE_STRIPE; return e; }
    return -1;
  }
  if (c == 110 && s.startsWith("npm_", i)) {
    const e = runOf(s, i + 4, 0);
    if (e - i - 4 >= 36) { out.shapeRule = RULE_OTHER_TOKEN; return e; }
    return -1;
  }
  if (c == 104 && s.startsWith("hvs.", i)) {
    const e = runOf(s, i + 4, 1);
    if (e - i - 4 >= 24) { out.shapeRule = RULE_OTHER_TOKEN; return e; }
    return -1;
  }
  if (c == 100 && s.startsWith("dckr_pat_", i)) {
    const e = runOf(s, i + 9, 1);
    if (e - i - 9 >= 20) { out.shapeRule = RULE_OTHER_TOKEN; return e; }
  }
  return -1;
}

// ---- the policy (docs/redaction.md "Masking policies"), parsed from the JSON the host validated ----

/** A JSON value of the policy (only what policies use: objects, arrays, strings, integers, booleans). */
export class JVal {
  /** 0 null, 1 bool, 2 int, 3 string, 4 array, 5 object. */
  kind: i32 = 0;
  b: boolean = false;
  n: i32 = 0;
  s: string = "";
  items: JVal[] = [];
  keys: string[] = [];

  /** The member `key` of an object, or null. */
  get(key: string): JVal | null {
    for (let i: i32 = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }
}

/** A small JSON reader (the host validated the document; malformed input yields null). */
export class JsonReader {
  s: string;
  i: i32 = 0;
  ok: boolean = true;
  constructor(s: string) {
    this.s = s;
  }
  private ws(): void {
    while (this.i < this.s.length && isSpace(this.s.charCodeAt(this.i))) this.i++;
  }
  private str(): string {
    let out = "";
    this.i++; // opening quote
    let start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 34) {
        out += this.s.substring(start, this.i);
        this.i++;
        return out;
      }
      if (c == 92 && this.i + 1 < this.s.length) {
        out += this.s.substring(start, this.i);
        const e = this.s.charCodeAt(this.i + 1);
        if (e == 110) out += "\n";
        else if (e == 116) out += "\t";
        else if (e == 114) out += "\r";
        else if (e == 98) out += "\b";
        else if (e == 102) out += "\f";
        else if (e == 117 && this.i + 5 < this.s.length) {
          let code: i32 = 0;
          for (let k: i32 = 2; k < 6; k++) {
            const h = this.s.charCodeAt(this.i + k);
            code = code * 16 + (isDigit(h) ? h - 48 : h >= 97 ? h - 87 : h - 55);
          }
          out += String.fromCharCode(code);
          this.i += 4;
        } else out += this.s.charAt(this.i + 1);
        this.i += 2;
        start = this.i;
        continue;
      }
      this.i++;
    }
    this.ok = false;
    return out;
  }
  /** Reads one value. */
  value(): JVal {
    const v = new JVal();
    this.ws();
    if (this.i >= this.s.length) { this.ok = false; return v; }
    const c = this.s.charCodeAt(this.i);
    if (c == 34) {
      v.kind = 3;
      v.s = this.str();
    } else if (c == 123 || c == 91) {
      v.kind = c == 123 ? 5 : 4;
      const close: i32 = c == 123 ? 125 : 93;
      this.i++;
      this.ws();
      if (this.i < this.s.length && this.s.charCodeAt(this.i) == close) { this.i++; return v; }
      while (this.ok && this.i < this.s.length) {
        if (v.kind == 5) {
          this.ws();
          if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 34) { this.ok = false; break; }
          v.keys.push(this.str());
          this.ws();
          if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 58) { this.ok = false; break; }
          this.i++;
        }
        v.items.push(this.value());
        this.ws();
        if (this.i >= this.s.length) { this.ok = false; break; }
        const d = this.s.charCodeAt(this.i);
        this.i++;
        if (d == close) return v;
        if (d != 44) { this.ok = false; break; }
      }
    } else if (c == 116 && this.s.startsWith("true", this.i)) {
      v.kind = 1; v.b = true; this.i += 4;
    } else if (c == 102 && this.s.startsWith("false", this.i)) {
      v.kind = 1; this.i += 5;
    } else if (c == 110 && this.s.startsWith("null", this.i)) {
      this.i += 4;
    } else if (c == 45 || isDigit(c)) {
      v.kind = 2;
      let neg = false;
      if (c == 45) { neg = true; this.i++; }
      let n: i32 = 0;
      while (this.i < this.s.length && isDigit(this.s.charCodeAt(this.i))) { n = n * 10 + (this.s.charCodeAt(this.i) - 48); this.i++; }
      v.n = neg ? -n : n;
    } else {
      this.ok = false;
    }
    return v;
  }
}

function strings(v: JVal | null): string[] {
  const out = new Array<string>(0);
  if (v == null) return out;
  const items = v.items;
  for (let i: i32 = 0; i < items.length; i++) if (items[i].kind == 3) out.push(items[i].s);
  return out;
}

/** One binary rule of a policy. */
export class PolicyRule {
  /** Glob on the executable: with a `/` against the full path, else against the file name. */
  match: string = "";
  /** Literal characters of `match`: the most specific matching rule wins. */
  specificity: i32 = 0;
  /** Extra secret flags (`--db-pass`, `-k`): both `=` and next-element forms; a one-letter flag also `-kSECRET`. */
  flags: string[] = [];
  /** Extra secret KEY names (exact, case-insensitive) for `KEY=value`. */
  keys: string[] = [];
  /** Argument positions masked whole: 1 = first argument after argv[0], -1 = last. */
  positions: i32[] = [];
  /** Templates: `*` any text, `{secret}` the part to mask, `\` escapes; the whole argument must match. */
  patterns: string[] = [];
  /** Arguments pass verbatim (token shapes and private keys still masked unless tokenShapes is false). */
  allow: boolean = false;
  tokenShapes: boolean = true;
  /** Cap on the number of arguments (0: none). */
  capCount: i32 = 0;
  /** Cap on each argument's length in UTF-16 units (0: none). */
  capLength: i32 = 0;
}

function readRule(v: JVal, r: PolicyRule): void {
  const m = v.get("match");
  if (m != null) r.match = m.s;
  let lit: i32 = 0;
  for (let i: i32 = 0; i < r.match.length; i++) {
    const c = r.match.charCodeAt(i);
    if (c != 42 && c != 63) lit++;
  }
  r.specificity = lit + (r.match.indexOf("/") >= 0 ? 1000 : 0);
  r.flags = strings(v.get("flags"));
  r.keys = strings(v.get("keys"));
  for (let i: i32 = 0; i < r.keys.length; i++) r.keys[i] = normName(r.keys[i]);
  r.patterns = strings(v.get("patterns"));
  const p = v.get("positions");
  if (p != null) for (let i: i32 = 0; i < p.items.length; i++) if (p.items[i].kind == 2) r.positions.push(p.items[i].n);
  const a = v.get("allow");
  if (a != null && a.kind == 1) r.allow = a.b;
  const t = v.get("tokenShapes");
  if (t != null && t.kind == 1) r.tokenShapes = t.b;
  const cap = v.get("argsCap");
  if (cap != null) {
    const c = cap.get("count");
    if (c != null) r.capCount = c.n;
    const l = cap.get("length");
    if (l != null) r.capLength = l.n;
  }
}

/** A masking policy: global additions plus binary rules. */
export class Policy {
  global: PolicyRule = new PolicyRule();
  rules: PolicyRule[] = [];
  /** False when the JSON could not be read. */
  ok: boolean = true;

  /** Reads the policy JSON the host passes as the `policy` config value ("" = no policy). */
  static parse(json: string): Policy {
    const p = new Policy();
    if (json.length == 0) return p;
    const rd = new JsonReader(json);
    const v = rd.value();
    if (!rd.ok || v.kind != 5) { p.ok = false; return p; }
    readRule(v, p.global);
    p.global.allow = false;
    p.global.positions = new Array<i32>(0);
    const rules = v.get("rules");
    if (rules != null) {
      for (let i: i32 = 0; i < rules.items.length; i++) {
        const r = new PolicyRule();
        readRule(rules.items[i], r);
        p.rules.push(r);
      }
    }
    return p;
  }

  /** The most specific rule matching the executable (first listed on a tie), or null. */
  ruleFor(exe: string): PolicyRule | null {
    let best: PolicyRule | null = null;
    let bestSpec: i32 = -1;
    const base = baseName(exe);
    for (let i: i32 = 0; i < this.rules.length; i++) {
      const r = this.rules[i];
      const target = r.match.indexOf("/") >= 0 ? exe : base;
      if (r.specificity > bestSpec && globMatch(r.match, 0, target, 0)) {
        best = r;
        bestSpec = r.specificity;
      }
    }
    return best;
  }
}

/** Glob: `**` any text, `*` any text without `/`, `?` one character but `/`, `\` escapes. */
export function globMatch(p: string, pi: i32, s: string, si: i32): boolean {
  while (pi < p.length) {
    const c = p.charCodeAt(pi);
    if (c == 42) {
      const deep = pi + 1 < p.length && p.charCodeAt(pi + 1) == 42;
      const next = deep ? pi + 2 : pi + 1;
      for (let k = si; k <= s.length; k++) {
        if (globMatch(p, next, s, k)) return true;
        if (k < s.length && !deep && s.charCodeAt(k) == 47) return false;
      }
      return false;
    }
    if (si >= s.length) return false;
    if (c == 63) {
      if (s.charCodeAt(si) == 47) return false;
    } else {
      let lit = c;
      if (c == 92 && pi + 1 < p.length) { pi++; lit = p.charCodeAt(pi); }
      if (s.charCodeAt(si) != lit) return false;
    }
    pi++;
    si++;
  }
  return si == s.length;
}

// ---- the redactor ----

/** Computes the hash-mode tag of a secret; each side provides HMAC-SHA256 (node:crypto / the plugin's own). */
export class Hasher {
  /** The first 16 hex digits of HMAC-SHA256(key, UTF-8 of the secret). */
  hex16(secret: string): string {
    return secret.substring(0, 0);
  }
}

/** A shell word: its span in the script and its unquoted text (wordMap gives each character's index in the script). */
class Word {
  start: i32 = 0;
  end: i32 = 0;
  text: string = "";
  /** A command separator (`;`, `&&`, `|`, newline, parentheses). */
  sep: boolean = false;
}

/**
 * Masks argument lists. One per plugin instance (rebuilt per batch in the plugin);
 * `counts` accumulate how many values each rule masked until `takeSummary()`.
 */
export class Redactor {
  mode: i32 = MODE_MASK;
  replacement: string = "[REDACTED]";
  hasher: Hasher;
  policy: Policy;
  counts: i32[] = [];
  /** Set by shapeAt. */
  shapeRule: i32 = 0;
  /** Values replaced so far (never reset; `counts` is): unchanged means nothing was masked in between. */
  replaced: i32 = 0;
  /** The rule in effect for the current list (null: none). */
  private rule: PolicyRule | null = null;
  private captureStart: i32 = -1;
  private captureEnd: i32 = -1;
  /** Set by norm(): the normalised name is ns[na, nb) read through nc. */
  private ns: string = "";
  private na: i32 = 0;
  private nb: i32 = 0;
  /** shortSpec of specTool per letter (p a w P u U, then p with `login`), -1 until asked. */
  private specTool: string = "";
  private specs: i32[] = [-1, -1, -1, -1, -1, -1, -1];
  /** The last executable of redactList and its file name (flows of one process repeat it). */
  private lastExe: string = "";
  private lastTool: string = "";
  /** redactList's `done` flags, reused. */
  private doneBuf: boolean[] = [];

  constructor(mode: i32, replacement: string, hasher: Hasher, policy: Policy) {
    this.mode = mode;
    this.replacement = replacement;
    this.hasher = hasher;
    this.policy = policy;
    for (let i: i32 = 0; i < RULE_COUNT; i++) this.counts.push(0);
  }

  /** What a secret becomes, counted under `rule`. */
  replace(secret: string, rule: i32): string {
    this.counts[rule] = this.counts[rule] + 1;
    this.replaced++;
    if (this.mode == MODE_HASH) return "[HMAC:" + this.hasher.hex16(secret) + "]";
    return this.replacement;
  }

  /** Total values masked so far. */
  total(): i32 {
    let n: i32 = 0;
    for (let i: i32 = 0; i < RULE_COUNT; i++) n += this.counts[i];
    return n;
  }

  /** `{"rule":n,…}` of the non-zero counters (names only, never values), then resets them; "" when nothing was masked. */
  takeSummary(): string {
    const names = RULE_NAMES.split(",");
    let out = "";
    for (let i: i32 = 0; i < RULE_COUNT; i++) {
      if (this.counts[i] == 0) continue;
      out += (out.length == 0 ? "{" : ",") + "\"" + names[i] + "\":" + this.counts[i].toString();
      this.counts[i] = 0;
    }
    return out.length == 0 ? "" : out + "}";
  }

  /**
   * Redacts one argument list (argv after argv[0]) of executable `exe`; returns
   * the list itself when nothing changed, else a new list. Applies the policy
   * rule matching `exe`, the mode (drop-args: a list with a secret becomes
   * `[replacement]`) and the args cap.
   */
  redactList(exe: string, args: string[]): string[] {
    const rule = this.policy.rules.length > 0 ? this.policy.ruleFor(exe) : null;
    this.rule = rule;
    const before = this.replaced;
    let out: string[];
    if (rule != null && rule.allow) {
      out = rule.tokenShapes ? this.shapesOnly(args) : args;
    } else {
      // one `done` array for every list (only its first args.length entries are read)
      const done = this.doneBuf;
      while (done.length < args.length) done.push(false);
      for (let i: i32 = 0; i < args.length; i++) done[i] = false;
      const pre = this.applyPolicy(args, done);
      if (exe != this.lastExe) {
        this.lastExe = exe;
        this.lastTool = baseName(exe);
      }
      out = this.maskArgs(this.lastTool, pre, done, 0);
    }
    if (this.mode == MODE_DROP_ARGS && this.replaced != before) {
      out = new Array<string>(0);
      out.push(this.replacement);
    }
    return this.cap(out, rule);
  }

  private shapesOnly(args: string[]): string[] {
    let out = args;
    for (let i: i32 = 0; i < args.length; i++) {
      const m = this.maskShapes(this.maskPem(args[i]));
      if (m != args[i]) {
        if (out == args) out = args.slice(0);
        out[i] = m;
      }
    }
    return out;
  }

  private cap(args: string[], rule: PolicyRule | null): string[] {
    let count = this.policy.global.capCount;
    let len = this.policy.global.capLength;
    if (rule != null && rule.capCount > 0) count = rule.capCount;
    if (rule != null && rule.capLength > 0) len = rule.capLength;
    let out = args;
    if (count > 0 && out.length > count) out = out.slice(0, count);
    if (len > 0) {
      for (let i: i32 = 0; i < out.length; i++) {
        const a = out[i];
        if (a.length <= len) continue;
        let cut = len;
        const hi = a.charCodeAt(cut - 1);
        if (hi >= 0xd800 && hi <= 0xdbff) cut--; // never split a surrogate pair
        if (out == args) out = args.slice(0);
        out[i] = a.substring(0, cut);
      }
    }
    return out;
  }

  /** Policy positions and patterns first; what they mask is `done` for the built-in rules. */
  private applyPolicy(args: string[], done: boolean[]): string[] {
    let out = args;
    const rule = this.rule;
    if (rule != null) {
      for (let k: i32 = 0; k < rule.positions.length; k++) {
        const p = rule.positions[k];
        const i = p > 0 ? p - 1 : args.length + p;
        if (i < 0 || i >= args.length || done[i] || args[i].length == 0) continue;
        if (out == args) out = args.slice(0);
        out[i] = this.replace(args[i], RULE_POLICY_POSITION);
        done[i] = true;
      }
    }
    if (this.policy.global.patterns.length == 0 && (rule == null || rule.patterns.length == 0)) return out; // no templates
    for (let i: i32 = 0; i < args.length; i++) {
      if (done[i]) continue;
      let m = this.applyPatterns(args[i], this.policy.global.patterns);
      if (rule != null) m = this.applyPatterns(m, rule.patterns);
      if (m != args[i]) {
        if (out == args) out = args.slice(0);
        out[i] = m;
        done[i] = true;
      }
    }
    return out;
  }

  private applyPatterns(a: string, patterns: string[]): string {
    for (let k: i32 = 0; k < patterns.length; k++) {
      this.captureStart = -1;
      this.captureEnd = -1;
      if (this.templateMatch(patterns[k], 0, a, 0) && this.captureEnd > this.captureStart && this.captureStart >= 0) {
        return a.substring(0, this.captureStart) + this.replace(a.substring(this.captureStart, this.captureEnd), RULE_POLICY_PATTERN) + a.substring(this.captureEnd);
      }
    }
    return a;
  }

  /** Template: `*` any text, `{secret}` a non-empty capture (shortest first), `\` escapes. */
  private templateMatch(p: string, pi: i32, s: string, si: i32): boolean {
    while (pi < p.length) {
      const c = p.charCodeAt(pi);
      if (c == 42) {
        for (let k = si; k <= s.length; k++) if (this.templateMatch(p, pi + 1, s, k)) return true;
        return false;
      }
      if (c == 123 && p.startsWith("{secret}", pi)) {
        for (let k = si + 1; k <= s.length; k++) {
          if (this.templateMatch(p, pi + 8, s, k)) {
            this.captureStart = si;
            this.captureEnd = k;
            return true;
          }
        }
        return false;
      }
      let lit = c;
      if (c == 92 && pi + 1 < p.length) { pi++; lit = p.charCodeAt(pi); }
      if (si >= s.length || s.charCodeAt(si) != lit) return false;
      pi++;
      si++;
    }
    return si == s.length;
  }

  /** A policy flag is exactly s[a, b). */
  private policyFlag(s: string, a: i32, b: i32): boolean {
    const g = this.policy.global.flags;
    for (let i: i32 = 0; i < g.length; i++) if (regionIs(s, a, b, g[i])) return true;
    const rule = this.rule;
    if (rule != null) for (let i: i32 = 0; i < rule.flags.length; i++) if (regionIs(s, a, b, rule.flags[i])) return true;
    return false;
  }

  /** A policy key (normalised) is the normalised region s[a, b). */
  private policyKey(s: string, a: i32, b: i32): boolean {
    const g = this.policy.global.keys;
    for (let i: i32 = 0; i < g.length; i++) if (nEq(s, a, b, g[i])) return true;
    const rule = this.rule;
    if (rule != null) for (let i: i32 = 0; i < rule.keys.length; i++) if (nEq(s, a, b, rule.keys[i])) return true;
    return false;
  }

  /** shortSpec, remembered for the last tool (the tool lists are compared once per tool and letter). */
  private spec(tool: string, letter: i32, login: boolean): i32 {
    // only -p depends on `login`: it has a slot for each
    const k: i32 = letter == 112 ? (login ? 6 : 0) : letter == 97 ? 1 : letter == 119 ? 2 : letter == 80 ? 3 : letter == 117 ? 4 : letter == 85 ? 5 : -1;
    if (k < 0) return SPEC_NONE;
    if (tool != this.specTool) {
      this.specTool = tool;
      for (let i: i32 = 0; i < 7; i++) this.specs[i] = -1;
    }
    if (this.specs[k] < 0) this.specs[k] = shortSpec(tool, letter, login);
    return this.specs[k];
  }

  /** secretName(normName(w)) without the copy when `w` is ASCII. */
  private secretWord(w: string): boolean {
    this.norm(w, 0, w.length);
    return secretNameAt(this.ns, this.na, this.nb);
  }

  /** Sets ns/na/nb to the name s[a, b) for the n… comparisons: in place when ASCII, else its normName copy. */
  private norm(s: string, a: i32, b: i32): void {
    this.normIf(s, a, b, true);
  }

  /** norm(), told whether s[a, b) may hold a non-ASCII character (`wide`: false when classify() saw none). */
  private normIf(s: string, a: i32, b: i32, wide: boolean): void {
    if (wide) for (let k = a; k < b; k++) {
      if (s.charCodeAt(k) >= 128) {
        const n = normName(s.substring(a, b));
        this.ns = n;
        this.na = 0;
        this.nb = n.length;
        return;
      }
    }
    this.ns = s;
    this.na = a;
    this.nb = b;
  }

  /** The neighbour-aware pass over one command's arguments (`tool` is the executable's file name). */
  maskArgs(tool: string, args: string[], done: boolean[], depth: i32): string[] {
    let out = args;
    let login: i32 = -1; // whether an argument is `login`: looked up at the first -p
    const oracle = oracleTool(tool);
    const mysqlsh = tool == "mysqlsh";
    let oracleSeen = false;
    for (let i: i32 = 0; i < args.length; i++) {
      if (done[i]) continue;
      const a = args[i];
      let m = a;
      const n = a.length;
      const cls = classify(a);
      const isFlag = n >= 2 && a.charCodeAt(0) == 45 && !(n == 2 && a.charCodeAt(1) == 45) && !isDigit(a.charCodeAt(1)); // not `--`
      const long = isFlag && a.charCodeAt(1) == 45;
      if (isFlag && !long && login < 0 && a.charCodeAt(1) == 112) login = hasLogin(args) ? 1 : 0;
      const spec = isFlag && !long ? this.spec(tool, a.charCodeAt(1), login == 1) : SPEC_NONE;
      if (spec != SPEC_NONE && n > 2) {
        // -pSECRET, -uuser:pass (the value may hold `=`)
        m = "-" + a.charAt(1) + this.specValue(spec, a.substring(2));
      } else if (isFlag && (cls & C_EQ) == 0) {
        // a flag without `=`: its value may be the next argument
        const next = i + 1 < args.length && !done[i + 1] ? args[i + 1] : "";
        const nextIsValue = next.length > 0 && !(next.length > 1 && next.charCodeAt(0) == 45);
        if (spec != SPEC_NONE && spec != SPEC_ATTACHED && (nextIsValue || (spec >= SPEC_USER_COLON && next.length > 0))) {
          if (out == args) out = args.slice(0);
          out[i + 1] = this.specValue(spec, next);
          i++;
          continue;
        } else if (n > 2 && !long && this.policyFlag(a, 0, 2)) {
          m = a.substring(0, 2) + this.replace(a.substring(2), RULE_POLICY_FLAG);
        } else {
          this.normIf(a, long ? 2 : 1, n, (cls & C_WIDE) != 0);
          const ns = this.ns;
          const na = this.na;
          const nb = this.nb;
          if (this.policyFlag(a, 0, n) && nextIsValue) {
            if (out == args) out = args.slice(0);
            out[i + 1] = this.replace(next, RULE_POLICY_FLAG);
            i++;
            continue;
          }
          // the three name tests below are false for a name under 3 characters (-h, -U)
          const named = nb - na >= 3;
          if (named && next.length > 0 && userPassLong(tool, ns, na, nb)) {
            const v = this.userPass(next, 58);
            if (v != next) {
              if (out == args) out = args.slice(0);
              out[i + 1] = v;
            }
            i++;
            continue;
          }
          if (named && nextIsValue && uriName(ns, na, nb)) {
            const v = this.schemelessUserinfo(next);
            if (v != next) {
              if (out == args) out = args.slice(0);
              out[i + 1] = v;
              i++;
              continue;
            }
          }
          if (named && nextIsValue && secretNameAt(ns, na, nb) && !(nEq(ns, na, nb, "PASSWORD") && passwordIsSwitch(tool))) {
            const v = this.flagValue(next, RULE_FLAG);
            if (v != next) {
              if (out == args) out = args.slice(0);
              out[i + 1] = v;
            }
            i++;
            continue;
          }
        }
      } else if (n == 3 && i + 2 < args.length && a == "set" && !done[i + 1] && !done[i + 2] && args[i + 1].indexOf("=") < 0 && !hasSpace(args[i + 1]) && this.secretWord(args[i + 1]) && args[i + 2].length > 0) {
        // `aws configure set aws_secret_access_key SECRET`, `npm config set //reg/:_authToken SECRET`
        if (out == args) out = args.slice(0);
        out[i + 2] = this.replace(args[i + 2], RULE_POSITIONAL);
        i += 2;
        continue;
      } else if (oracle && n > 0 && a.charCodeAt(0) != 45 && a.charCodeAt(0) != 64) {
        // sqlplus user/SECRET@db: the first plain argument, or any plain user/…@… one (rman target sys/SECRET@db)
        const first = !oracleSeen;
        oracleSeen = true;
        const slash = findChar(a, 47, 0);
        const at = findChar(a, 64, slash);
        if (slash > 0 && findStr(a, "://", 0) < 0 && (first || at > slash)) {
          const end = at < 0 ? n : at;
          if (end > slash + 1 && findChar(a, 47, slash + 1) < 0 || (at > slash + 1 && findChar(a, 47, slash + 1) > at)) m = a.substring(0, slash + 1) + this.replace(a.substring(slash + 1, end), RULE_POSITIONAL) + a.substring(end);
        }
      } else if (mysqlsh && n > 0 && a.charCodeAt(0) != 45) {
        m = this.schemelessUserinfo(a); // mysqlsh root:SECRET@host:3306
      }
      // without a space, `=`, `:` or shape start maskText keeps the argument
      if (m == a && (cls & (C_SPACE | C_EQ | C_COLON | C_SHAPE)) != 0) m = this.maskClassified(tool, a, depth, cls);
      if (m != a) {
        if (out == args) out = args.slice(0);
        out[i] = m;
      }
    }
    return out;
  }

  /** `user:SECRET@host` without a scheme (mysqlsh --uri, --dsn …); URLs with a scheme are maskUrls'. */
  private schemelessUserinfo(v: string): string {
    if (findStr(v, "://", 0) >= 0) return v;
    let at: i32 = v.length - 1;
    while (at >= 0 && v.charCodeAt(at) != 64) at--; // the last @
    const colon = findChar(v, 58, 0);
    const slash = findChar(v, 47, 0);
    if (colon <= 0 || at < colon + 2 || slash >= 0 && slash < at) return v;
    for (let k: i32 = 0; k < colon; k++) if (!isKeyChar(v.charCodeAt(k))) return v;
    if (v.startsWith("sha256:", at + 1)) return v; // image:tag@sha256:…
    return v.substring(0, colon + 1) + this.replace(v.substring(colon + 1, at), RULE_URL_USERINFO) + v.substring(at);
  }

  private specValue(spec: i32, v: string): string {
    if (v.length == 0) return v;
    if (spec == SPEC_USER_COLON) return this.userPass(v, 58);
    if (spec == SPEC_USER_COMMA) return this.userPass(v, 44);
    if (spec == SPEC_USER_PERCENT) return this.userPass(v, 37);
    return this.replace(v, RULE_SHORT_FLAG);
  }

  /** `user<sep>secret` → `user<sep>[REDACTED]`; without the separator it is a user name only. */
  private userPass(v: string, sep: i32): string {
    const at = findChar(v, sep, 0);
    if (at < 0 || at + 1 >= v.length) return this.maskShapes(v); // a user name (or a token as the user: curl -u sk_live_…:)
    return this.maskShapes(v.substring(0, at + 1)) + this.replace(v.substring(at + 1), RULE_USER_PASS);
  }

  /** The value of a secret flag: openssl-style `file:`/`env:`/`fd:` references are kept, `pass:` masked after the prefix. */
  private flagValue(v: string, rule: i32): string {
    if (v.length == 0) return v;
    if (v.startsWith("file:") || v.startsWith("env:") || v.startsWith("fd:") || v == "stdin") return v;
    if (v.startsWith("pass:")) return v.length > 5 ? "pass:" + this.replace(v.substring(5), rule) : v;
    if (findChar(v, 61, 0) > 0 && !hasSpace(v) && compoundSplit(v, 0) > 0) {
      // a connection string (`Server=…;Password=…`): mask its secret parts when it has some
      const m = this.maskCompound(v);
      if (m != v) return m;
    }
    return this.replace(v, rule);
  }

  /** One argument on its own: `flag=value`, `KEY=value`, a header, a shell string, or a word. */
  maskText(tool: string, s0: string, depth: i32): string {
    return s0.length == 0 ? s0 : this.maskClassified(tool, s0, depth, classify(s0));
  }

  /** maskText of a non-empty `s0` whose classify() is `cls` (or more bits): each rule is skipped when a character it needs is absent. */
  private maskClassified(tool: string, s0: string, depth: i32, cls: i32): string {
    const spaced = (cls & C_SPACE) != 0;
    // Without a space, `=` or `:` no rule but the token shapes applies: no PEM header
    // (it has a space), no key=value or compound, no header, no URL.
    if (!spaced && (cls & (C_EQ | C_COLON)) == 0) return (cls & C_SHAPE) != 0 ? this.maskShapes(s0) : s0;
    const s = spaced && (cls & C_PEM) != 0 ? this.maskPem(s0) : s0; // masking a PEM body keeps the spaces of its header
    if (s != s0) cls = C_ALL; // a new string: no skipping
    const colons = (cls & C_COLON) != 0;
    // key=value needs `=`, a header `:`, a list of parts `=` and one of , ; &
    const kv = (cls & C_EQ) != 0 ? keyPrefixEnd(s) : -1;
    if (kv > 0) {
      const isFlag = s.charCodeAt(0) == 45;
      if (!isFlag && !spaced && (cls & C_SEP) != 0 && compoundSplit(s, 0) > 0) return this.maskCompound(s);
      if (isFlag || !spaced) return this.maskKeyValue(tool, s, kv, isFlag, depth, cls);
      if (colons) {
        const hv = this.maskHeader(s.substring(kv + 1));
        if (hv.length > 0) return s.substring(0, kv + 1) + hv;
      }
    }
    if (colons) {
      const h = this.maskHeader(s);
      if (h.length > 0) return h;
    }
    if (spaced) return depth < MAX_DEPTH ? this.maskScript(s, depth + 1) : s;
    if ((cls & C_SEP) != 0 && (cls & C_EQ) != 0 && s.charCodeAt(0) != 45 && compoundSplit(s, 0) > 0) return this.maskCompound(s);
    // a word: URL userinfo (`://` and `@`) and query secrets (`://`, `?` and `=`), then token shapes
    const u = colons && ((cls & C_AT) != 0 || (cls & (C_QUERY | C_EQ)) == (C_QUERY | C_EQ)) ? this.maskUrls(s) : s;
    return (cls & C_SHAPE) != 0 || u != s ? this.maskShapes(u) : u;
  }

  /** `a=1,b.password=x`, `Server=h;Password=x`, `a=1&token=x`: each part on its own. */
  private maskCompound(s: string): string {
    let out = "";
    let start: i32 = 0;
    while (start <= s.length) {
      const k = compoundSplit(s, start);
      const end = k > 0 ? k : s.length;
      const part = s.substring(start, end);
      out += this.maskText("", part, MAX_DEPTH);
      if (k <= 0) break;
      out += s.charAt(k);
      start = k + 1;
    }
    return out;
  }

  /**
   * `flag=value` / `KEY=value` with `=` at `eq` (keyPrefixEnd) and classify() bits `cls`.
   * The value is copied out only where a rule needs it.
   */
  private maskKeyValue(tool: string, s: string, eq: i32, isFlag: boolean, depth: i32, cls: i32): string {
    if (eq + 1 >= s.length || settingWord(s, eq + 1)) return s; // a setting, not a secret
    const vcls = valueClass(cls);
    // a value without a space, `=`, `:` or shape start: maskText would return it as it is
    const plainValue = (vcls & (C_SPACE | C_EQ | C_COLON | C_SHAPE)) == 0;
    const wide = (cls & C_WIDE) != 0;
    if (isFlag) {
      const long = s.charCodeAt(1) == 45;
      const from: i32 = long ? 2 : 1; // the name is s[from, eq)
      if (this.policyFlag(s, 0, eq)) return s.substring(0, eq + 1) + this.replace(s.substring(eq + 1), RULE_POLICY_FLAG);
      const jvm = !long && eq - from > 1 && s.charCodeAt(from) == 68; // -Dname
      this.normIf(s, jvm ? from + 1 : from, eq, wide);
      const ns = this.ns;
      const na = this.na;
      const nb = this.nb;
      if (userPassLong(tool, ns, na, nb)) {
        const value = s.substring(eq + 1);
        return withValue(s, eq, value, this.userPass(value, 58));
      }
      if (secretNameAt(ns, na, nb) || (jvm && this.policyKey(ns, na, nb))) {
        const value = s.substring(eq + 1);
        return withValue(s, eq, value, this.flagValue(value, jvm ? RULE_JVM : RULE_FLAG));
      }
      if (uriName(ns, na, nb)) {
        const value = s.substring(eq + 1);
        const u = this.schemelessUserinfo(value);
        if (u != value) return s.substring(0, eq + 1) + u;
        return plainValue ? s : withValue(s, eq, value, this.maskClassified(tool, value, depth, vcls));
      }
    } else {
      this.normIf(s, 0, eq, wide);
      const ns = this.ns;
      const na = this.na;
      const nb = this.nb;
      if (this.policyKey(ns, na, nb)) return s.substring(0, eq + 1) + this.replace(s.substring(eq + 1), RULE_POLICY_KEY);
      // SIG: a SAS signature; SECRET_ID: vault's approle secret (a flag --secret-id names a secret instead)
      if (secretNameAt(ns, na, nb) || nEq(ns, na, nb, "SIG") || nEq(ns, na, nb, "SECRET_ID")) return s.substring(0, eq + 1) + this.replace(s.substring(eq + 1), RULE_KEY_VALUE);
    }
    if (plainValue) return s;
    const value = s.substring(eq + 1);
    return withValue(s, eq, value, this.maskClassified(tool, value, depth, vcls));
  }

  /** `Name: [scheme ]secret` when Name is a credential header → the secret masked; else "". */
  private maskHeader(s: string): string {
    const colon = findChar(s, 58, 0);
    if (colon < 2) return "";
    for (let i: i32 = 0; i < colon; i++) {
      const c = s.charCodeAt(i);
      if (!(isAlnum(c) || c == 45 || c == 95)) return "";
    }
    if (!secretHeaderAt(s, 0, colon)) return ""; // ASCII name: compared in place
    let v = colon + 1;
    while (v < s.length && isSpace(s.charCodeAt(v))) v++;
    if (v >= s.length) return "";
    // keep an auth scheme (Bearer, Basic, Token, Digest, …): letters, then a space
    let w = v;
    while (w < s.length && isLetter(s.charCodeAt(w))) w++;
    if (w > v && w < s.length && w - v <= 20 && isSpace(s.charCodeAt(w))) {
      while (w < s.length && isSpace(s.charCodeAt(w))) w++;
      if (w < s.length) v = w;
    }
    const kv = keyPrefixAt(s, v); // Cookie: session=SECRET
    if (kv > 0 && s.charCodeAt(v) != 45 && kv + 1 < s.length) v = kv + 1;
    return s.substring(0, v) + this.replace(s.substring(v), RULE_HEADER);
  }

  private maskUrls(s: string): string {
    let out = "";
    let last: i32 = 0;
    let from: i32 = 0;
    while (true) {
      const p = findStr(s, "://", from);
      if (p <= 0) break;
      const c = s.charCodeAt(p - 1);
      from = p + 3;
      if (!(isAlnum(c) || c == 43 || c == 46 || c == 45)) continue;
      const start = p + 3;
      let end = start;
      while (end < s.length) {
        const d = s.charCodeAt(end);
        if (d == 47 || isSpace(d)) break; // not at ? or #: a password may hold them
        end++;
      }
      // userinfo: user:SECRET@host (the last @ of the authority)
      let at: i32 = -1;
      for (let k = start; k < end; k++) if (s.charCodeAt(k) == 64) at = k;
      if (at > start) {
        const colon = findChar(s, 58, start);
        if (colon >= 0 && colon < at && colon + 1 < at) {
          out += s.substring(last, colon + 1) + this.replace(s.substring(colon + 1, at), RULE_URL_USERINFO);
          last = at;
        }
      }
      // query parameters naming a secret
      let q = at > start ? at + 1 : start;
      while (q < s.length && s.charCodeAt(q) != 63 && s.charCodeAt(q) != 35 && !isSpace(s.charCodeAt(q))) q++;
      if (q < s.length && s.charCodeAt(q) == 63) {
        let k = q + 1;
        while (k < s.length) {
          let e = k;
          while (e < s.length && s.charCodeAt(e) != 38 && s.charCodeAt(e) != 35 && !isSpace(s.charCodeAt(e))) e++;
          const eq = findChar(s, 61, k);
          let secret = false;
          if (eq > k && eq < e - 1) {
            this.norm(s, k, eq);
            secret = secretQueryNameAt(this.ns, this.na, this.nb);
          }
          if (secret) {
            out += s.substring(last, eq + 1) + this.replace(s.substring(eq + 1, e), RULE_URL_QUERY);
            last = e;
          }
          if (e >= s.length || s.charCodeAt(e) != 38) { k = e; break; }
          k = e + 1;
        }
        from = k > from ? k : from;
      } else if (end > from) from = end;
    }
    return last == 0 ? s : out + s.substring(last);
  }

  private maskShapes(s: string): string {
    let out = "";
    let last: i32 = 0;
    let i: i32 = 0;
    while (i < s.length) {
      if (shapeStart(s, i) && (i == 0 || !isAlnum(s.charCodeAt(i - 1)))) {
        const e = shapeAt(s, i, this);
        if (e > i) {
          out += s.substring(last, i) + this.replace(s.substring(i, e), this.shapeRule);
          last = e;
          i = e;
          continue;
        }
      }
      i++;
    }
    return last == 0 ? s : out + s.substring(last);
  }

  /** PEM private key blocks: the body between the BEGIN and END lines. */
  maskPem(s: string): string {
    let from = findStr(s, "-----BEGIN ", 0);
    if (from < 0) return s;
    let out = "";
    let last: i32 = 0;
    while (from >= 0) {
      const he = findStr(s, "-----", from + 11);
      if (he < 0) break;
      const label = s.substring(from + 11, he);
      const body = he + 5;
      if (!label.endsWith("PRIVATE KEY")) { from = findStr(s, "-----BEGIN ", body); continue; }
      let end = findStr(s, "-----END ", body);
      if (end < 0) end = s.length;
      if (end > body) {
        out += s.substring(last, body) + this.replace(s.substring(body, end), RULE_PEM);
        last = end;
      }
      from = findStr(s, "-----BEGIN ", end);
    }
    return last == 0 ? s : out + s.substring(last);
  }

  /** A shell string (`sh -c "…"`, a conninfo string, …): split into commands and words, mask each command's words, keep the rest byte for byte. */
  private maskScript(s: string, depth: i32): string {
    const words = shellWords(s);
    let out = "";
    let last: i32 = 0;
    let i: i32 = 0;
    while (i < words.length) {
      if (words[i].sep) { i++; continue; }
      let j = i;
      while (j < words.length && !words[j].sep) j++;
      // words[i, j): one command; leading assignments and wrappers (sudo, env, …) before the tool
      let t = i;
      while (t < j && (keyPrefixEnd(words[t].text) > 0 && words[t].text.charCodeAt(0) != 45 || wrapperWord(words[t].text) || (t > i && words[t].text.startsWith("-")))) t++;
      const tool = t < j ? baseName(words[t].text) : "";
      const args = new Array<string>(0);
      for (let k = i; k < j; k++) args.push(words[k].text);
      const done = new Array<boolean>(args.length).fill(false);
      for (let k = i; k <= t && k < j; k++) done[k - i] = true; // assignments, wrappers and the tool: masked on their own below
      let masked = this.maskArgs(tool, args, done, depth);
      // the tool word and the words before it are masked on their own (assignments)
      for (let k = i; k <= t && k < j; k++) {
        const m = this.maskText(tool, words[k].text, depth);
        if (m != words[k].text) {
          if (masked == args) masked = args.slice(0);
          masked[k - i] = m;
        }
      }
      if (masked != args) {
        for (let k = i; k < j; k++) {
          const w = words[k];
          const old = w.text;
          const nw = masked[k - i];
          if (nw == old) continue;
          // replace only the changed middle, in the script's own quoting
          let p: i32 = 0;
          while (p < old.length && p < nw.length && old.charCodeAt(p) == nw.charCodeAt(p)) p++;
          let sfx: i32 = 0;
          while (sfx < old.length - p && sfx < nw.length - p && old.charCodeAt(old.length - 1 - sfx) == nw.charCodeAt(nw.length - 1 - sfx)) sfx++;
          const map = wordMap(s, w);
          const rawStart = p < old.length ? map[p] : (old.length > 0 ? map[old.length - 1] + 1 : w.start);
          const rawEnd = old.length - sfx > p ? map[old.length - sfx - 1] + 1 : rawStart;
          out += s.substring(last, rawStart) + nw.substring(p, nw.length - sfx);
          last = rawEnd;
        }
      }
      i = j;
    }
    return last == 0 ? s : out + s.substring(last);
  }
}

// classify() bits: what an argument holds.
const C_SPACE: i32 = 1; // a space (isSpace)
const C_EQ: i32 = 2; // a `=`
const C_EQS: i32 = 4; // a second `=`
const C_COLON: i32 = 8; // a `:`
const C_SEP: i32 = 16; // a `,` `;` or `&`
const C_SHAPE: i32 = 32; // a position where maskShapes looks (shapeStart after a non-alphanumeric character or at 0)
const C_WIDE: i32 = 64; // a character >= 128
const C_AT: i32 = 128; // a `@`
const C_QUERY: i32 = 256; // a `?`
const C_PEM: i32 = 512; // `-----` (a PEM header or footer)
const C_ALL: i32 = 1023;

/**
 * The classify() bits of the value after the `=` at keyPrefixEnd: the name before it has only name
 * characters and `-`, so every bit but `=` and the shape start comes from the value; one `=` less,
 * C_EQS kept (at least two `=` after it, for all it knows), C_SHAPE kept (the shape start may be in the name).
 */
function valueClass(cls: i32): i32 {
  return (cls & ~(C_EQ | C_EQS)) | ((cls & C_EQS) != 0 ? C_EQ | C_EQS : 0);
}

/** Bit c - 97 for the lower-case letters a token shape starts with: d e g h n r s x. */
const SHAPE_FIRSTS: i32 = (1 << 3) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 13) | (1 << 17) | (1 << 18) | (1 << 23);

/** One pass over `s`: the C_ bits of the characters the rules look for. */
function classify(s: string): i32 {
  let cls: i32 = 0;
  let prevAlnum = false;
  const n = s.length;
  for (let i: i32 = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 ? c <= 122 : c >= 65 ? c <= 90 : c >= 48 && c <= 57) {
      // shapeStart is true only at A and at the lower-case letters of SHAPE_FIRSTS
      if (!prevAlnum && (cls & C_SHAPE) == 0 && (c >= 97 ? ((SHAPE_FIRSTS >> (c - 97)) & 1) != 0 : c == 65) && shapeStart(s, i)) cls |= C_SHAPE;
      prevAlnum = true;
      continue;
    }
    prevAlnum = false;
    if (c == 46 || c == 47 || c == 95) continue; // . / _: common, and no rule looks for them here
    if (c == 45) {
      if (i + 4 < n && s.charCodeAt(i + 1) == 45 && s.charCodeAt(i + 2) == 45 && s.charCodeAt(i + 3) == 45 && s.charCodeAt(i + 4) == 45) cls |= C_PEM;
    } else if (c == 61) cls |= (cls & C_EQ) != 0 ? C_EQS : C_EQ;
    else if (c == 58) cls |= C_COLON;
    else if (c == 44 || c == 59 || c == 38) cls |= C_SEP;
    else if (c == 64) cls |= C_AT;
    else if (c == 63) cls |= C_QUERY;
    else if (c >= 128) cls |= C_WIDE;
    else if (isSpace(c)) cls |= C_SPACE;
  }
  return cls;
}

/** If `s` starts with `KEY=` or `-flag=` / `--flag=` (name characters only), the index of `=`; else -1. */
export function keyPrefixEnd(s: string): i32 {
  return keyPrefixAt(s, 0);
}

/** keyPrefixEnd of s[from…] without the copy: the index in `s` of `=`, or -1. */
function keyPrefixAt(s: string, from: i32): i32 {
  let i: i32 = from;
  while (i < s.length && i < from + 2 && s.charCodeAt(i) == 45) i++;
  const start = i;
  while (i < s.length && isKeyChar(s.charCodeAt(i))) i++;
  if (i > start && i < s.length && s.charCodeAt(i) == 61 && isKeyChar(s.charCodeAt(start)) && s.charCodeAt(start) != 45) return i;
  return -1;
}

/** s with its value after `=` at `eq` replaced by `m` (s itself when m is the value). */
function withValue(s: string, eq: i32, value: string, m: string): string {
  return m == value ? s : s.substring(0, eq + 1) + m;
}

/** The first index >= `from` of `,` `;` or `&` followed by `key=` (a list of key=value parts), or -1. */
function compoundSplit(s: string, from: i32): i32 {
  for (let k = from; k < s.length - 1; k++) {
    const c = s.charCodeAt(k);
    if ((c == 44 || c == 59 || c == 38) && s.charCodeAt(k + 1) != 45 && keyPrefixAt(s, k + 1) > 0) return k;
  }
  return -1;
}

const WORD_END: i32 = -1;
const WORD_QUOTE: i32 = -2;

/**
 * One step through a shell word at s[i] (inside quote `quote`, 0 if none): the
 * index of the word character it yields (i, or i + 1 after a backslash), or
 * WORD_QUOTE when s[i] opens or closes a quote, or WORD_END.
 */
function wordChar(s: string, i: i32, quote: i32): i32 {
  const n = s.length;
  const d = s.charCodeAt(i);
  if (quote == 0) {
    if (isSpace(d) || d == 59 || d == 38 || d == 124 || d == 40 || d == 41 || d == 96) return WORD_END;
    if (d == 39 || d == 34) return WORD_QUOTE;
    if (d == 92 && i + 1 < n) return i + 1;
  } else if (d == quote) {
    return WORD_QUOTE;
  } else if (quote == 34 && d == 92 && i + 1 < n) {
    const e = s.charCodeAt(i + 1);
    if (e == 34 || e == 92 || e == 36 || e == 96) return i + 1; // \" \\ \$ \`
  }
  return i;
}

/** The index in the script of each character of a word's text (quotes and escapes are not in the text). */
function wordMap(s: string, w: Word): i32[] {
  const map = new Array<i32>(0);
  let i = w.start;
  let quote: i32 = 0;
  while (i < w.end) {
    const take = wordChar(s, i, quote);
    if (take == WORD_END) break;
    if (take == WORD_QUOTE) { quote = quote == 0 ? s.charCodeAt(i) : 0; i++; continue; }
    map.push(take);
    i = take + 1;
  }
  return map;
}

/** Splits a shell string into words (quotes and backslashes removed) and separators, with their spans. */
function shellWords(s: string): Word[] {
  const out = new Array<Word>(0);
  let i: i32 = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (isSpace(c) && c != 10) { i++; continue; }
    if (c == 59 || c == 38 || c == 124 || c == 40 || c == 41 || c == 10 || c == 96) { // ; & | ( ) newline `
      const w = new Word();
      w.start = i;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (!(d == 59 || d == 38 || d == 124 || d == 40 || d == 41 || d == 10 || d == 96)) break;
        i++;
      }
      w.end = i;
      w.sep = true;
      out.push(w);
      continue;
    }
    const w = new Word();
    w.start = i;
    let text = "";
    // the word's characters are runs of the script's: appended a run at a time, not a character at a time
    let runStart: i32 = -1;
    let runEnd: i32 = -1;
    let quote: i32 = 0;
    while (i < n) {
      const take = wordChar(s, i, quote);
      if (take == WORD_END) break;
      if (take == WORD_QUOTE) { quote = quote == 0 ? s.charCodeAt(i) : 0; i++; continue; }
      if (take != runEnd) {
        if (runStart >= 0) text += s.substring(runStart, runEnd);
        runStart = take;
      }
      runEnd = take + 1;
      i = take + 1;
    }
    if (runStart >= 0) text = text.length == 0 ? s.substring(runStart, runEnd) : text + s.substring(runStart, runEnd);
    w.end = i;
    w.text = text;
    out.push(w);
  }
  return out;
}
