/** Masking policies and redact-args settings: validated at load with the field path and the fix. */
import { describe, expect, it } from 'vitest';
import { validatePluginsConfig } from '../../host/plugins/config.js';
import { policyJson } from '../../host/redact/policy.js';

const entry = (extra: Record<string, unknown>) => ({ plugins: { chain: [{ name: 'redact-args', stage: 'redactor', path: 'builtin:redact-args', ...extra }] } }).plugins;

function problem(raw: unknown): { code?: string; message: string } {
  try {
    validatePluginsConfig(raw);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('accepted');
}

describe('masking policy validation', () => {
  it('accepts a full policy and hands the plugin JSON with allow globs as rules after the others', () => {
    const policy = {
      flags: ['--db-pass', '-k'], keys: ['DB_CONN'], patterns: ['*Password={secret};*'], argsCap: { count: 64, length: 512 },
      allow: ['/usr/bin/ls'],
      rules: [{ match: '/opt/app/bin/*', positions: [2, -1], argsCap: { count: 8 } }, { match: 'trusted', allow: true, tokenShapes: false }],
    };
    const cfg = validatePluginsConfig(entry({ policy, config: { mode: 'hash', replacement: '***' } }));
    expect(cfg.chain[0].policy).toEqual(policy);
    expect(JSON.parse(policyJson(cfg.chain[0].policy!))).toEqual({
      flags: ['--db-pass', '-k'], keys: ['DB_CONN'], patterns: ['*Password={secret};*'], argsCap: { count: 64, length: 512 },
      rules: [{ match: '/opt/app/bin/*', positions: [2, -1], argsCap: { count: 8 } }, { match: 'trusted', allow: true, tokenShapes: false }, { match: '/usr/bin/ls', allow: true }],
    });
  });

  it.each([
    [{ rules: [{ match: 'a' }, { match: 'b' }, { match: 'c', positions: [0] }] }, 'plugins.chain[0].policy.rules[2].positions[0]', 'Positions count from 1'],
    [{ rules: [{ match: 'a', positions: ['x'] }] }, 'plugins.chain[0].policy.rules[0].positions[0]', 'non-zero integer'],
    [{ rules: [{ positions: [1] }] }, 'plugins.chain[0].policy.rules[0].match', 'which binaries'],
    [{ rules: [{ match: '/usr/bin/[ab]*' }] }, 'plugins.chain[0].policy.rules[0].match', 'character classes'],
    [{ rules: [{ match: 'x', allow: true, positions: [1] }] }, 'plugins.chain[0].policy.rules[0]', 'allow rule'],
    [{ rules: [{ match: 'x', tokenShapes: false }] }, 'plugins.chain[0].policy.rules[0].tokenShapes', 'allow: true'],
    [{ patterns: ['--x={secret}{secret}'] }, 'plugins.chain[0].policy.patterns[0]', 'exactly one {secret}'],
    [{ flags: ['db-pass'] }, 'plugins.chain[0].policy.flags[0]', '--db-pass'],
    [{ argsCap: { count: 0 } }, 'plugins.chain[0].policy.argsCap.count', 'integer from 1'],
    [{ mask: true }, 'plugins.chain[0].policy.mask', 'unknown setting'],
  ])('rejects %j at its path', (policy, field, fix) => {
    const err = problem(entry({ policy }));
    expect(err.code).toBe('PROCFLOW_E_PLUGIN_CONFIG');
    expect(err.message).toContain(field);
    expect(err.message).toContain(fix);
  });

  it('rejects a policy on another plugin, an unknown mode, a key written in the config, and a bad defaultRedaction', () => {
    expect(problem({ chain: [{ name: 'x', stage: 'redactor', path: '/p.wasm', sha256: 'a'.repeat(64), policy: {} }] }).message).toContain('plugins.chain[0].policy');
    expect(problem(entry({ config: { mode: 'scramble' } })).message).toContain('plugins.chain[0].config.mode');
    expect(problem(entry({ tenants: { a: { mode: 'x' } } })).message).toContain('plugins.chain[0].tenants.a.mode');
    const keyErr = problem(entry({ config: { hmacKey: '00'.repeat(32) } }));
    expect(keyErr.message).toContain('hmacKeyFile');
    expect(keyErr.message).not.toContain('00'.repeat(32)); // the value is never echoed
    expect(problem({ defaultRedaction: 'no', chain: [] }).message).toContain('plugins.defaultRedaction');
  });
});
