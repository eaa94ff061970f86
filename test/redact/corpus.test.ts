/**
 * The corpora through the host's redactor (the same rules as the redact-args
 * plugin; parity.test.ts runs them through the plugin too): every planted
 * secret is masked — no 8-character substring of it left — while the rest of
 * its argument stays; ordinary command lines pass unchanged (≤ 1 % changed).
 */
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../host/redact/redactor.js';
import { exeOf, expand, leaks, readCorpus } from './corpus.js';

describe('secrets corpus', () => {
  const corpus = readCorpus('secrets');

  it('has at least 200 templates, each planting at least one secret', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    for (const c of corpus) expect(expand(c).planted.length, `line ${c.line}`).toBeGreaterThan(0);
  });

  it('masks every planted secret and keeps the key, user and host', () => {
    const r = createRedactor();
    const problems: string[] = [];
    for (const c of corpus) {
      const e = expand(c);
      const out = r.redactList(exeOf(e.argv), e.argv.slice(1));
      const text = out.join('\n');
      for (const p of e.planted) {
        const l = leaks(p.secret, text);
        if (l.length > 0) problems.push(`line ${c.line}: ${l.length} substrings of a planted secret left: ${JSON.stringify(out)}`);
      }
      if (out.length !== e.argv.length - 1) problems.push(`line ${c.line}: ${out.length} arguments, expected ${e.argv.length - 1}`);
      for (let i = 1; i < e.argv.length && i - 1 < out.length; i++) {
        for (const f of e.fragments[i]) if (f !== '' && !out[i - 1].includes(f)) problems.push(`line ${c.line}: "${f}" of argument ${i} was masked too: ${JSON.stringify(out[i - 1])}`);
      }
    }
    expect(problems).toEqual([]);
    expect(r.total()).toBeGreaterThanOrEqual(corpus.length);
  });
});

describe('ordinary corpus', () => {
  const corpus = readCorpus('ordinary');

  it('has at least 200 command lines without secrets; at most 1 % change', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    const r = createRedactor();
    const changed: string[] = [];
    for (const c of corpus) {
      const out = r.redactList(exeOf(c.words), c.words.slice(1));
      if (JSON.stringify(out) !== JSON.stringify(c.words.slice(1))) changed.push(`line ${c.line}: ${JSON.stringify(out)}`);
    }
    expect(changed.length, changed.join('\n')).toBeLessThanOrEqual(Math.floor(corpus.length / 100));
  });
});
