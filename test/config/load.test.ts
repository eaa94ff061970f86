/** The YAML config loader: overlay on the defaults, aliases, and every problem reported at once with its place. */
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText, validateConfig } from '../../host/config/load.js';
import { ConfigError, formatPath } from '../../host/config/problems.js';
import { DEFAULT_CONFIG } from '../../host/config/settings.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** Loads a fixture expected to be invalid; returns its problems as "path: message" lines. */
function problemsOf(name: string): string[] {
  try {
    loadConfig(fixture(name));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('PROCFLOW_E_CONFIG');
    expect(e.message).not.toMatch(/\n\s+at /); // never a stack trace
    return e.problems.map((p) => `${p.line ?? '-'}: ${formatPath(p.path)}: ${p.message}`);
  }
  throw new Error(`${name} was accepted`);
}

describe('loadConfig', () => {
  it('returns the embedded defaults without a file, and for an empty file', () => {
    expect(loadConfig()).toEqual(DEFAULT_CONFIG);
    expect(loadConfig(fixture('good-empty.yaml'))).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ collectProcessInfo: true, collectProcessPath: 'Enabled', flushInterval: 15_000 });
  });

  it('overlays a file key by key', () => {
    expect(loadConfig(fixture('good-overlay.yaml'))).toEqual({
      ...DEFAULT_CONFIG, flushInterval: 90_000, collectProcessPath: 'Disabled', includeLoopback: false,
    });
  });

  it('accepts the prefixed names as aliases', () => {
    expect(loadConfig(fixture('good-aliases.yaml'))).toEqual({
      ...DEFAULT_CONFIG, flushInterval: 300_000, aggregationKindForAllowed: 1, perFlowProcessLimit: 3, perFlowProcessArgsLimit: 7,
    });
  });

  it('fills sink defaults and replaces the default sink list', () => {
    const c = loadConfig(fixture('good-sinks.yaml'));
    expect(c.sinks).toEqual([
      { type: 'file', path: '/var/log/procflow/flows.log', maxFileSizeMB: 100, maxFiles: 5 },
      { type: 'file', path: '/tmp/b.log', maxFileSizeMB: 10, maxFiles: 2 },
      { type: 'stdout' },
    ]);
    expect(c.nodeName).toBe('node-1');
    expect(c.exitedProcessRetention).toBe(120_000);
  });

  it('does not share state with DEFAULT_CONFIG', () => {
    const c = loadConfig();
    c.sinks.push({ type: 'stdout' });
    expect(DEFAULT_CONFIG.sinks).toHaveLength(1);
  });

  it('rejects unknown keys with "did you mean"', () => {
    const p = problemsOf('bad-unknown-key.yaml');
    expect(p).toHaveLength(4);
    expect(p[0]).toMatch(/^1: flushIntervall: unknown setting \(did you mean flushInterval\?\)/);
    expect(p[1]).toMatch(/^2: perFlowProcesLimit: .*did you mean perFlowProcessLimit\?/);
    expect(p[2]).toMatch(/^3: flowLogsFileDirectory: .*sinks: \[\{type: file/);
    expect(p[3]).toMatch(/^4: frobnicate: unknown setting; docs\/config\.md/);
  });

  it('rejects wrong types, saying what was found and what is allowed', () => {
    expect(problemsOf('bad-types.yaml')).toEqual([
      '1: collectProcessInfo: found "true" (a string); expected true or false (write true or false unquoted)',
      '2: includeLoopback: found "yes" (a string); expected true or false (write true or false unquoted)',
      '3: perFlowProcessLimit: found "2" (a string); expected an integer from 1 to 1000 (write the number unquoted)',
      '4: argsCap: found 100000 (a number); expected an integer from 64 to 16384',
      '5: dataDir: found "" (a string); expected a non-empty string',
      '6: sinks: found "stdout" (a string); expected a list of at least one sink ({type: file, path: …} or {type: stdout})',
    ]);
  });

  it('rejects bad durations', () => {
    const p = problemsOf('bad-durations.yaml');
    expect(p).toHaveLength(4);
    expect(p[0]).toBe('1: flushInterval: found 15 (a number); expected a duration such as 500ms, 15s, 5m or 1h, from 100ms to 24h (write the unit, e.g. 15s)');
    expect(p[1]).toMatch(/^2: statsInterval: found "1 minute" \(a string\); expected a duration/);
    expect(p[2]).toMatch(/^3: processRefreshInterval: found "10ms" .* from 1s to 24h/);
    expect(p[3]).toMatch(/^4: exitedProcessRetention: found "soon"/);
  });

  it('rejects values outside an enum, suggesting the right spelling', () => {
    expect(problemsOf('bad-enums.yaml')).toEqual([
      '1: collectProcessPath: found "enabled" (a string); expected one of Enabled, Disabled (did you mean Enabled?)',
      '2: aggregationKindForAllowed: found 4 (a number); expected one of 0, 1, 2, 3',
      '3: flowTableOverflow: found "drop" (a string); expected one of drop-new, evict-idle',
      '4: hooks: found "fentry" (a string); expected one of auto, tracepoint, kprobe',
    ]);
  });

  it('rejects a setting given twice under its name and an alias', () => {
    const p = problemsOf('bad-alias-twice.yaml');
    expect(p).toEqual([
      '2: flowLogsFlushInterval: sets flushInterval a second time (already set by flushInterval); keep only one of flushInterval and flowLogsFlushInterval',
      '4: flowLogsPerFlowProcessLimit: sets perFlowProcessLimit a second time (already set by flowLogsFilePerFlowProcessLimit); keep only one of flowLogsFilePerFlowProcessLimit and flowLogsPerFlowProcessLimit',
    ]);
  });

  it('reports every sink problem with its index path', () => {
    expect(problemsOf('bad-sinks.yaml')).toEqual([
      '3: sinks[1].path: missing; a file sink needs the path of its log file',
      '4: sinks[1].maxFiles: found "five" (a string); expected an integer from 1 to 1000',
      '5: sinks[1].maxSize: unknown setting; allowed here: type, name, path, maxFileSizeMB, maxFiles',
      '6: sinks[2].type: found "kafka" (a string); expected one of file, stdout, elasticsearch, fluent-forward, http, syslog',
      '7: sinks[3]: found "just-a-string" (a string); expected a mapping such as {type: file, path: /var/log/procflow/flows.log} or {type: stdout}',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    try {
      loadConfig(fixture('bad-syntax.yaml'));
      expect.unreachable();
    } catch (err) {
      const e = err as ConfigError;
      expect(e.code).toBe('PROCFLOW_E_CONFIG');
      expect(e.problems[0]).toMatchObject({ syntax: true, line: expect.any(Number), column: expect.any(Number) });
      expect(e.message).toMatch(/line \d+, column \d+: YAML syntax error: /);
    }
    expect(() => parseConfigText('a: 1\na: 2\n', 'dup.yaml')).toThrow(/dup\.yaml has 1 problem:\n {2}- line 2, column 1: YAML syntax error: Map keys must be unique/);
  });

  it('rejects a document that is not a mapping', () => {
    expect(problemsOf('bad-top-level.yaml')).toEqual(['1: (top level): found a list; expected a mapping of settings (key: value lines)']);
  });

  it('names the file and counts the problems in one message', () => {
    expect(() => loadConfig(fixture('bad-enums.yaml'))).toThrow(/Config .*bad-enums\.yaml has 4 problems:\n {2}- line 1, column 21: collectProcessPath: /);
  });

  it('reports an unreadable file with its own code', () => {
    expect(() => loadConfig(fixture('missing.yaml'))).toThrow(expect.objectContaining({ code: 'PROCFLOW_E_CONFIG_FILE' }));
  });

  it('treats Object.prototype names as unknown keys', () => {
    expect(() => validateConfig({ constructor: 1, toString: 2 })).toThrow(/2 problems:\n {2}- constructor: unknown setting.*\n {2}- toString: unknown setting/);
  });

  it('validates plugins with the plugin host\'s validator (extension point)', () => {
    expect(() => validateConfig({ plugins: [{ name: 'x' }] })).toThrow(/plugins/);
    expect(validateConfig({ plugins: { chain: [] } }).plugins).toEqual({ chain: [] });
    expect('plugins' in validateConfig({})).toBe(false);
  });

  it('validates plain objects without a file (no line numbers)', () => {
    expect(validateConfig({ flowLogsCollectProcessPath: 'Disabled' }).collectProcessPath).toBe('Disabled');
    expect(() => validateConfig({ sinks: [{ type: 'file', path: '/x', maxFiles: 0 }] })).toThrow(
      /\(inline\) has 1 problem:\n {2}- sinks\[0\]\.maxFiles: found 0 \(a number\); expected an integer from 1 to 1000/,
    );
  });
});
