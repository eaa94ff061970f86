/**
 * The built-in default argument redaction, used by `procflow trace --redact`.
 * Masks only the secret and keeps the key, user name and host readable.
 * (The redact-args WebAssembly plugin of the plugin runtime supersedes this
 * for the pipeline; these rules are the floor every path applies.)
 */

/** Replacement written in place of a secret. */
export const REDACTED = '[REDACTED]';

const SECRET_WORD = /(pass(word|wd)?|pwd|secret|token|api[-_]?key|apikey|credential|auth|private[-_]?key|access[-_]?key)/i;
const FLAG_WITH_VALUE = /^(--?[A-Za-z0-9][A-Za-z0-9._-]*)=(.*)$/s;
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^@/\s]*@/gi;
const AUTH_HEADER = /^((?:proxy-)?authorization|x-api-key|x-auth-token|cookie)\s*:\s*(?:(bearer|basic|token)\s+)?.+$/i;
const TOKEN_SHAPES = [
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // JWT
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, // GitHub tokens
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab PAT
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];
/** Tools whose `-pSECRET` form carries a password. */
const DASH_P_TOOLS = /(^|\/)(mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)$/;

function isFileOption(key: string): boolean {
  return /[-_]file$/i.test(key);
}

function maskInline(s: string): string {
  let out = s.replace(URL_USERINFO, `$1:${REDACTED}@`);
  for (const re of TOKEN_SHAPES) out = out.replace(re, REDACTED);
  const header = AUTH_HEADER.exec(out);
  if (header) out = `${out.slice(0, out.indexOf(':') + 1)} ${header[2] ? `${header[2]} ` : ''}${REDACTED}`;
  return out;
}

/** Redacts an argv (argv[0] included); returns a new array and how many values were masked. */
export function redactArgv(argv: readonly string[]): { argv: string[]; masked: number } {
  const out = [...argv];
  let masked = 0;
  const set = (i: number, v: string) => {
    if (out[i] !== v) {
      out[i] = v;
      masked++;
    }
  };
  const dashP = argv.length > 0 && DASH_P_TOOLS.test(argv[0]);
  for (let i = 1; i < out.length; i++) {
    const a = out[i];
    const flag = FLAG_WITH_VALUE.exec(a);
    if (flag && SECRET_WORD.test(flag[1]) && !isFileOption(flag[1])) {
      set(i, `${flag[1]}=${REDACTED}`);
      continue;
    }
    const jvm = /^(-D[^=]*(pass|secret|token|key)[^=]*)=(.*)$/i.exec(a);
    if (jvm) {
      set(i, `${jvm[1]}=${REDACTED}`);
      continue;
    }
    const env = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
    if (env && SECRET_WORD.test(env[1])) {
      set(i, `${env[1]}=${REDACTED}`);
      continue;
    }
    if (/^--?[A-Za-z]/.test(a) && !a.includes('=') && SECRET_WORD.test(a) && !isFileOption(a) && i + 1 < out.length) {
      set(i + 1, REDACTED);
      i++;
      continue;
    }
    if (dashP && /^-p.+/.test(a)) {
      set(i, `-p${REDACTED}`);
      continue;
    }
    if ((a === '-u' || a === '--user') && i + 1 < out.length && out[i + 1].includes(':')) {
      set(i + 1, `${out[i + 1].split(':')[0]}:${REDACTED}`);
      i++;
      continue;
    }
    if (i >= 2 && out[i - 1] === '-c' && /(^|\/)(ba|da|z|k)?sh$/.test(out[0])) {
      set(i, redactArgv(['sh', ...a.split(' ')]).argv.slice(1).join(' '));
      continue;
    }
    set(i, maskInline(a));
  }
  return { argv: out, masked };
}
