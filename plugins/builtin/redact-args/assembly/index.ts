// Built-in argument masking: keeps flags, keys and user names readable and
// masks only the secret. Rules (the same as bench/plugin-chain.ts's TypeScript twin):
//  - `--flag=value` / `-flag=value` whose flag names a secret → `--flag=[REDACTED]`
//  - `--flag value` whose flag names a secret → the next element masked
//  - `scheme://user:password@host` → `scheme://user:[REDACTED]@host`
//  - `-pSECRET` for mysql-family tools → `-p[REDACTED]`
import { Flow } from "procflow-plugin-sdk";

const MASK = "[REDACTED]";
const SECRET_WORDS: string[] = ["password", "passwd", "pwd", "secret", "token", "apikey", "api-key", "api_key", "credential", "auth", "private-key", "access-key"];

function namesSecret(flag: string): bool {
  const f = flag.toLowerCase();
  if (f.endsWith("-file") || f.endsWith("_file")) return false;
  for (let i = 0; i < SECRET_WORDS.length; i++) if (f.includes(unchecked(SECRET_WORDS[i]))) return true;
  return false;
}

function maskUrl(a: string): string {
  const scheme = a.indexOf("://");
  if (scheme < 0) return a;
  const at = a.indexOf("@", scheme + 3);
  if (at < 0) return a;
  const colon = a.indexOf(":", scheme + 3);
  if (colon < 0 || colon > at) return a;
  const slash = a.indexOf("/", scheme + 3);
  if (slash >= 0 && slash < at) return a;
  return a.substring(0, colon + 1) + MASK + a.substring(at);
}

function isMysql(name: string): bool {
  const slash = name.lastIndexOf("/");
  const base = slash >= 0 ? name.substring(slash + 1) : name;
  return base == "mysql" || base == "mysqldump" || base == "mysqladmin" || base == "mariadb";
}

/** Masks one argument list in place. */
export function maskArgv(argv: string[], mysql: bool): void {
  for (let i = 0; i < argv.length; i++) {
    const a = unchecked(argv[i]);
    if (a.length > 1 && a.charCodeAt(0) == 45) { // '-'
      const eq = a.indexOf("=");
      if (eq > 0) {
        if (namesSecret(a.substring(0, eq))) unchecked(argv[i] = a.substring(0, eq + 1) + MASK);
        continue;
      }
      if (mysql && a.length > 2 && a.charCodeAt(1) == 112) { unchecked(argv[i] = "-p" + MASK); continue; } // -pSECRET
      if (namesSecret(a) && i + 1 < argv.length) { unchecked(argv[i + 1] = MASK); i++; continue; }
      continue;
    }
    const m = maskUrl(a);
    if (m != a) unchecked(argv[i] = m);
  }
}

export function redact(flows: Flow[]): void {
  for (let i = 0; i < flows.length; i++) {
    const f = unchecked(flows[i]);
    const mysql = isMysql(f.processName);
    const lists = f.processArgs;
    for (let j = 0; j < lists.length; j++) maskArgv(unchecked(lists[j]), mysql);
  }
}
