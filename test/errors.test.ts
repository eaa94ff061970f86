/** Every catalogued error is documented in docs/errors.md, and codes are unique and well-formed. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, ProcflowError } from '../host/errors.js';

describe('error catalog', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  it('documents every code', () => {
    for (const e of Object.values(ERRORS)) expect(doc, `${e.code} missing from docs/errors.md`).toContain(`\`${e.code}\``);
  });
  it('has unique PROCFLOW_E_ codes', () => {
    const codes = Object.values(ERRORS).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^PROCFLOW_E_[A-Z0-9_]+$/);
  });
  it('fills the message template and keeps the code', () => {
    const err = new ProcflowError(ERRORS.NOT_ROOT, { missing: 'CAP_BPF' });
    expect(err.code).toBe('PROCFLOW_E_NOT_ROOT');
    expect(err.message).toContain('missing: CAP_BPF');
    expect(err.message).toContain('setcap');
  });
});
