/** Redaction setup: on by default (one explicit off switch), the policy and the hash key handed to the plugin, the key file 0600. */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePluginsConfig } from '../../host/plugins/config.js';
import { describeRedaction, loadHmacKey, prepareRedaction, withDefaultRedaction } from '../../host/redact/setup.js';

const redact = { name: 'redact-args', stage: 'redactor' as const, path: 'builtin:redact-args' };
const enrich = { name: 'svc', stage: 'enricher' as const, path: '/p.wasm', sha256: 'a'.repeat(64) };

describe('default redaction', () => {
  it('is added to a missing, an empty, and an enricher-only chain; kept once when listed; off only with defaultRedaction: false', () => {
    expect(withDefaultRedaction(undefined).chain).toEqual([redact]);
    expect(withDefaultRedaction({ chain: [] }).chain).toEqual([redact]);
    expect(withDefaultRedaction({ chain: [enrich] }).chain).toEqual([redact, enrich]);
    expect(withDefaultRedaction({ chain: [{ ...enrich, name: 'redact-args' }] }).chain.map((e) => e.name)).toEqual(['redact-args-2', 'redact-args']);
    const own = { ...redact, name: 'mine', config: { mode: 'hash' } };
    expect(withDefaultRedaction({ chain: [enrich, own] }).chain).toEqual([enrich, own]);
    expect(withDefaultRedaction({ chain: [enrich], defaultRedaction: false }).chain).toEqual([enrich]);
    expect(withDefaultRedaction(validatePluginsConfig({ chain: [] })).chain).toEqual([redact]);
  });

  it('says which redactor runs', () => {
    expect(describeRedaction(withDefaultRedaction(undefined))).toBe('argument redaction: redact-args (builtin:redact-args, mode mask)');
    expect(describeRedaction({ chain: [], defaultRedaction: false })).toContain('OFF');
  });
});

describe('hash key and policy', () => {
  it('creates a 32-byte 0600 key on first use, reuses it, hands it (hex) and the policy JSON to every redact-args config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procflow-redact-'));
    const cfg = validatePluginsConfig({ chain: [{ ...redact, config: { mode: 'hash' }, tenants: { a: { mode: 'mask' } }, policy: { keys: ['X'] } }] });
    const out = prepareRedaction(cfg, join(dir, 'data'));
    const path = join(dir, 'data', 'redact-hmac.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = readFileSync(path);
    expect(key.length).toBe(32);
    expect(out.chain[0].config).toEqual({ mode: 'hash', hmacKey: key.toString('hex'), policy: '{"keys":["X"],"rules":[]}' });
    expect(out.chain[0].tenants!.a).toEqual({ mode: 'mask', policy: '{"keys":["X"],"rules":[]}' });
    expect(cfg.chain[0].config).toEqual({ mode: 'hash' }); // input untouched
    expect(prepareRedaction(cfg, join(dir, 'data')).chain[0].config!.hmacKey).toBe(key.toString('hex'));
    expect(describeRedaction(out)).not.toContain(key.toString('hex'));
  });

  it('uses hmacKeyFile when given; refuses a key others can read or a short one, without showing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'procflow-redact-'));
    const path = join(dir, 'k');
    writeFileSync(path, Buffer.alloc(32, 0x41), { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(() => loadHmacKey(path)).toThrow(expect.objectContaining({ code: 'PROCFLOW_E_REDACT_KEY', message: expect.stringContaining('chmod 600') }));
    chmodSync(path, 0o600);
    const out = prepareRedaction({ chain: [{ ...redact, config: { mode: 'hash', hmacKeyFile: path } }] }, dir);
    expect(out.chain[0].config!.hmacKey).toBe('41'.repeat(32));
    writeFileSync(path, 'short');
    let message = '';
    try {
      loadHmacKey(path);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('fewer than 16');
    expect(message).not.toContain('short');
  });
});

describe('procflow run config', () => {
  it('a config without plugins: gets redact-args; routes\' redact-args entries get their policy and key too', async () => {
    const { effectiveConfig } = await import('../../host/cli/run.js');
    const dir = mkdtempSync(join(tmpdir(), 'procflow-redact-'));
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, `dataDir: ${dir}/data\n`);
    expect(effectiveConfig({ configPath: plain }).plugins!.chain).toEqual([redact]);
    const routed = join(dir, 'routed.yaml');
    writeFileSync(routed, `dataDir: ${dir}/data
sinks:
  - {type: file, name: a, path: ${dir}/a.log}
routes:
  key: source_namespace
  tenants:
    - name: team-a
      match: {values: [team-a]}
      chain:
        - {name: strict, stage: redactor, path: "builtin:redact-args", config: {mode: hash}, policy: {keys: [X]}}
      sinks: [a]
  default: {sinks: [a]}
`);
    const cfg = effectiveConfig({ configPath: routed });
    const strict = cfg.routes!.tenants[0].chain[0];
    expect(strict.config!.hmacKey).toBe(readFileSync(join(dir, 'data', 'redact-hmac.key')).toString('hex'));
    expect(strict.config!.policy).toBe('{"keys":["X"],"rules":[]}');
  });
});
