/**
 * The redaction corpora (test/redact/corpus/*.txt): command lines in shell
 * syntax, one per line. `secrets.txt` has typed placeholders (`{password}`,
 * `{jwt}`, …) that get a fresh random secret of that shape on every run.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.js';

// From the package root: the benchmark (bench/plugin-chain.ts) loads the corpora from dist/ too.
const DIR = join(PROJECT_ROOT, 'test', 'redact', 'corpus');

/** One command line of a corpus: its template (with placeholders) and the argv it stands for. */
export interface CorpusLine {
  line: number;
  template: string;
  /** Shell words of the template, placeholders unexpanded. */
  words: string[];
}

/** Splits a line into shell words: whitespace-separated, '…' and "…" quoting, backslash escapes. */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let q = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = '';
      else if (q === '"' && c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Reads a corpus file (comments and blank lines skipped). */
export function readCorpus(name: 'secrets' | 'ordinary'): CorpusLine[] {
  return readFileSync(join(DIR, `${name}.txt`), 'utf8').split('\n').flatMap((template, i) =>
    template.trim() === '' || template.startsWith('#') ? [] : [{ line: i + 1, template, words: shellSplit(template) }]);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
// Passwords: what survives in argv without shell quoting trouble (no quotes, spaces, separators, `/`, `@`, `,`, `;`, `&`).
const PASSWORD = `${ALNUM}!%^*+-_.~#`;
const HEX = '0123456789abcdef';

function pick(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}
const b64url = (b: Buffer) => b.toString('base64url');

/** A planted secret: what goes into the argument, and the part that must not survive. */
export interface Planted {
  value: string;
  secret: string;
}

/** Generators of each placeholder type: random values in the real shape. */
export const SHAPES: Record<string, () => Planted> = {
  password: () => plain(pick(ALNUM, 1) + pick(PASSWORD, 9 + randomInt(12))),
  token: () => plain(pick(ALNUM, 32 + randomInt(9))),
  uuid: () => plain([8, 4, 4, 4, 12].map((n) => pick(HEX, n)).join('-')),
  jwt: () => plain(`${b64url(Buffer.from('{"alg":"HS256","typ":"JWT"}'))}.${b64url(Buffer.from(JSON.stringify({ sub: pick(ALNUM, 12), exp: randomInt(2e9) })))}.${b64url(randomBytes(32))}`),
  aws_key_id: () => plain(`AKIA${pick(UPPER_DIGITS, 16)}`),
  aws_session_key_id: () => plain(`ASIA${pick(UPPER_DIGITS, 16)}`),
  aws_secret: () => plain(pick(ALNUM, 1) + pick(B64, 39)),
  ghp: () => plain(`ghp_${pick(ALNUM, 36)}`),
  gho: () => plain(`gho_${pick(ALNUM, 36)}`),
  github_pat: () => plain(`github_pat_${pick(ALNUM, 22)}_${pick(ALNUM, 59)}`),
  glpat: () => plain(`glpat-${pick(ALNUM, 1)}${pick(B64URL, 19)}`),
  slack: () => plain(`xoxb-${pick('0123456789', 12)}-${pick('0123456789', 13)}-${pick(ALNUM, 24)}`),
  google: () => plain(`AIza${pick(B64URL, 35)}`),
  stripe: () => plain(`sk_live_${pick(ALNUM, 24 + randomInt(76))}`),
  npm: () => plain(`npm_${pick(ALNUM, 36)}`),
  vault: () => plain(`hvs.${pick(B64URL, 90)}`),
  kubeadm: () => plain(`${pick('abcdefghijklmnopqrstuvwxyz0123456789', 6)}.${pick('abcdefghijklmnopqrstuvwxyz0123456789', 16)}`),
  b64: () => plain(`${pick(ALNUM, 1)}${pick(B64, 85)}==`),
  b64url: () => plain(pick(B64URL, 43)),
  basic: () => plain(Buffer.from(`deploy:${pick(ALNUM, 16)}`).toString('base64')),
  pem: () => {
    const body = Array.from({ length: 6 }, () => randomBytes(48).toString('base64')).join('\n');
    return { value: `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`, secret: body };
  },
};

function plain(v: string): Planted {
  return { value: v, secret: v };
}

/** An expanded template: argv and the secrets planted in it. */
export interface Expanded {
  argv: string[];
  planted: Planted[];
  /** Per argv element, the template text between placeholders (what must stay). */
  fragments: string[][];
}

const PLACEHOLDER = /\{([a-z0-9_]+)\}/g;

/** Replaces each placeholder by a fresh secret of its type (after splitting, so secrets are never re-quoted). */
export function expand(c: CorpusLine): Expanded {
  const planted: Planted[] = [];
  const fragments: string[][] = [];
  const argv = c.words.map((w) => {
    fragments.push(w.split(PLACEHOLDER).filter((_, i) => i % 2 === 0));
    return w.replace(PLACEHOLDER, (m, type: string) => {
      const gen = SHAPES[type];
      if (!gen) throw new Error(`line ${c.line}: unknown placeholder ${m}`);
      const p = gen();
      planted.push(p);
      return p.value;
    });
  });
  return { argv, planted, fragments };
}

/** The executable of a corpus argv: argv[0] as a full path. */
export function exeOf(argv: string[]): string {
  return argv[0].startsWith('/') ? argv[0] : `/usr/bin/${argv[0]}`;
}

/** Every 8-character substring of `secret` (without line breaks) found in `text`. */
export function leaks(secret: string, text: string): string[] {
  const out: string[] = [];
  for (const part of secret.split('\n')) for (let i = 0; i + 8 <= part.length; i++) if (text.includes(part.slice(i, i + 8))) out.push(part.slice(i, i + 8));
  return out;
}
