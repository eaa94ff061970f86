/** The `routes:` section: accepted shapes, and every refusal naming its field path and the fix. */
import { describe, expect, it } from 'vitest';
import { parseConfigText, validateConfig } from '../../host/config/load.js';
import { ConfigError, formatProblem } from '../../host/config/problems.js';

/** The problems of a config (as `path: message` lines), or [] when it is valid. */
function problems(raw: unknown): string[] {
  try {
    validateConfig(raw);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map(formatProblem);
  }
}

const SINKS = [
  { type: 'file', name: 'a', path: '/tmp/procflow-routing-a.log' },
  { type: 'file', name: 'b', path: '/tmp/procflow-routing-b.log' },
  { type: 'elasticsearch', name: 'es', url: 'http://127.0.0.1:9200' },
];
const JSON_FMT = { name: 'json', stage: 'formatter', path: 'builtin:calico-json' };
const CEF_FMT = { name: 'cef', stage: 'formatter', path: 'builtin:cef' };

describe('routes: accepted', () => {
  it('types tenant routes and the default route, tenant keys inherited or per route', () => {
    const c = validateConfig({
      sinks: SINKS,
      routes: {
        key: 'source_namespace',
        tenants: [
          { name: 'team-a', match: { values: ['team-a'], globs: ['team-a-*'] }, chain: [JSON_FMT], sinks: ['a'] },
          { name: 'internal', key: 'dest_ip', match: { cidrs: ['10.0.0.0/8'] }, sinks: ['es'] },
        ],
        overlap: 'copy',
        default: { sinks: ['b'] },
      },
    });
    expect(c.routes).toEqual({
      key: 'source_namespace', overlap: 'copy',
      tenants: [
        { name: 'team-a', key: 'source_namespace', match: { values: ['team-a'], globs: ['team-a-*'] }, chain: [JSON_FMT], sinks: ['a'] },
        { name: 'internal', key: 'dest_ip', match: { cidrs: ['10.0.0.0/8'] }, chain: [], sinks: ['es'] },
      ],
      default: { chain: [], sinks: ['b'] },
    });
  });

  it('names unnamed sinks TYPE-INDEX, and a YAML file loads the same way', () => {
    const c = parseConfigText([
      'sinks:', '  - {type: stdout}', '  - {type: file, path: /tmp/x.log}',
      'routes:', '  key: dest_port', '  tenants:', '    - name: pg', '      match: {values: ["5432"]}', '      sinks: [file-1]',
      '  default: {sinks: [stdout-0]}', '',
    ].join('\n'), 'inline');
    expect(c.routes?.tenants[0]).toMatchObject({ name: 'pg', key: 'dest_port', sinks: ['file-1'] });
  });

  it('a config without routes is unchanged (every sink is the default route\'s)', () => {
    expect(validateConfig({ sinks: [{ type: 'stdout' }] }).routes).toBeUndefined();
  });
});

describe('routes: refused, with the field path', () => {
  const base = (routes: unknown, sinks: unknown = SINKS, extra: Record<string, unknown> = {}) => problems({ sinks, routes, ...extra });

  it('an unknown sink name, with a suggestion', () => {
    expect(base({ key: 'source_namespace', default: { sinks: ['a', 'b', 'es', 'ess'] } })).toEqual([
      expect.stringMatching(/^routes\.default\.sinks\[3\]: unknown sink "ess" \(did you mean es\?\)/),
    ]);
  });

  it('an unknown built-in plugin in a route chain, with a suggestion', () => {
    const p = base({ default: { chain: [{ name: 'x', stage: 'formatter', path: 'builtin:calico-jsn' }], sinks: ['a', 'b', 'es'] } });
    expect(p).toEqual([expect.stringMatching(/^routes\.default\.chain\[0\]\.path: unknown plugin "builtin:calico-jsn" \(did you mean calico-json\?\)/)]);
  });

  it('a bad plugin entry in a route chain, by the plugin validator, at its exact field', () => {
    const p = base({ default: { chain: [{ name: 'x', stage: 'bogus', path: 'builtin:cef' }], sinks: ['a', 'b', 'es'] } });
    expect(p.join('\n')).toMatch(/routes\.default\.chain\[0\]\.stage/);
  });

  it('a sink used by two routes with different formats (one sink writes one format)', () => {
    const p = base({
      key: 'source_namespace',
      tenants: [
        { name: 't1', match: { values: ['x'] }, chain: [JSON_FMT], sinks: ['a'] },
        { name: 't2', match: { values: ['y'] }, chain: [CEF_FMT], sinks: ['a'] },
      ],
      default: { sinks: ['b', 'es'] },
    });
    expect(p).toEqual([expect.stringMatching(/^routes\.tenants\[1\]\.sinks\[0\]: sink "a" already receives routes\.tenants\[0\]\.chain's format/)]);
  });

  it('the same sink on two routes with the same format is fine', () => {
    expect(base({
      key: 'source_namespace',
      tenants: [{ name: 't1', match: { values: ['x'] }, chain: [JSON_FMT], sinks: ['a'] }, { name: 't2', match: { values: ['y'] }, chain: [JSON_FMT], sinks: ['a'] }],
      default: { sinks: ['b', 'es'] },
    })).toEqual([]);
  });

  it('a non-JSON formatter to an elasticsearch sink', () => {
    expect(base({ default: { chain: [CEF_FMT], sinks: ['a', 'b', 'es'] } })).toContainEqual(
      expect.stringMatching(/^routes\.default\.sinks\[2\]: sink "es" is an elasticsearch sink.*writes text\/plain/),
    );
  });

  it('overlapping routes: equal values, a value and a glob, two globs, two CIDRs, different keys', () => {
    const two = (m1: object, m2: object, k2?: string) => base({
      key: 'source_namespace',
      tenants: [{ name: 't1', match: m1, sinks: ['a'] }, { name: 't2', ...(k2 ? { key: k2 } : {}), match: m2, sinks: ['b'] }],
      default: { sinks: ['es'] },
    });
    expect(two({ values: ['x'] }, { values: ['x'] })).toEqual([expect.stringMatching(/^routes\.tenants\[1\]\.match: overlaps route t1 \(routes\.tenants\[0\]\): both match "x".*routes\.overlap: copy/)]);
    expect(two({ values: ['team-a-1'] }, { globs: ['team-*'] })).toEqual([expect.stringMatching(/overlaps route t1.*both match "team-a-1"/)]);
    expect(two({ globs: ['a*'] }, { globs: ['*b'] })).toEqual([expect.stringMatching(/globs "a\*" and "\*b" can match the same value/)]);
    expect(two({ globs: ['a*'] }, { globs: ['b*'] })).toEqual([]);
    expect(two({ values: ['x'] }, { cidrs: ['10.1.0.0/16'] }, 'dest_ip')).toEqual([expect.stringMatching(/different keys \(source_namespace, dest_ip\)/)]);
    const cidr = (a: string, b: string) => base({ key: 'dest_ip', tenants: [{ name: 't1', match: { cidrs: [a] }, sinks: ['a'] }, { name: 't2', match: { cidrs: [b] }, sinks: ['b'] }], default: { sinks: ['es'] } });
    expect(cidr('10.0.0.0/8', '10.1.0.0/16')).toEqual([expect.stringMatching(/their CIDRs overlap/)]);
    expect(cidr('10.0.0.0/8', '192.168.0.0/16')).toEqual([]);
    expect(cidr('fd00::/8', '10.0.0.0/8')).toEqual([]);
  });

  it('overlap: copy allows overlapping routes', () => {
    expect(base({
      key: 'source_namespace', overlap: 'copy',
      tenants: [{ name: 't1', match: { values: ['x'] }, sinks: ['a'] }, { name: 't2', match: { globs: ['*'] }, sinks: ['b'] }],
      default: undefined,
    }, SINKS.slice(0, 2))).toEqual([]);
  });

  it('unreachable: a catch-all route leaves nothing for the default route', () => {
    expect(base({ key: 'source_namespace', tenants: [{ name: 'all', match: { globs: ['*'] }, sinks: ['a'] }], default: { sinks: ['b', 'es'] } })).toEqual([
      expect.stringMatching(/^routes\.default: unreachable: route all \(routes\.tenants\[0\]\) matches every value of source_namespace/),
    ]);
  });

  it('matches that can never hit: CIDRs on a non-IP field, words on a numeric or enum field, a non-address on an IP field', () => {
    const one = (key: string, match: object) => base({ key, tenants: [{ name: 't', match, sinks: ['a'] }], default: { sinks: ['b', 'es'] } });
    expect(one('source_namespace', { cidrs: ['10.0.0.0/8'] })).toEqual([expect.stringMatching(/^routes\.tenants\[0\]\.match\.cidrs: source_namespace never holds an IP address/)]);
    expect(one('dest_port', { values: ['https'] })).toEqual([expect.stringMatching(/^routes\.tenants\[0\]\.match\.values\[0\]: dest_port holds numbers/)]);
    expect(one('proto', { values: ['tcp'] })).toEqual([]);
    expect(one('reporter', { values: ['client'] })).toEqual([expect.stringMatching(/reporter is one of src, dst/)]);
    expect(one('dest_ip', { values: ['db.internal'] })).toEqual([expect.stringMatching(/dest_ip holds IP addresses/)]);
    expect(one('dest_ip', { cidrs: ['10.0.0.300/8'] })).toEqual([expect.stringMatching(/^routes\.tenants\[0\]\.match\.cidrs\[0\]: found "10\.0\.0\.300\/8"/)]);
  });

  it('a key no record has and no enricher sets (with a suggestion); allowed when plugins.chain has an enricher', () => {
    const routes = { key: 'source_namspace', tenants: [{ name: 't', match: { values: ['x'] }, sinks: ['a'] }], default: { sinks: ['b', 'es'] } };
    expect(base(routes)).toEqual([expect.stringMatching(/^routes\.key: "source_namspace" is not a flow record field \(did you mean source_namespace\?\), and plugins\.chain has no enricher/)]);
    const plugins = { chain: [{ name: 'proc', stage: 'enricher', path: 'builtin:enrich-process' }] };
    expect(base({ ...routes, key: 'process_cgroup' }, SINKS, { plugins })).toEqual([]);
  });

  it('a route without sinks, without match, without key; a sink no route uses; a formatter in the shared chain', () => {
    const p = base({
      tenants: [{ name: 't', sinks: [] }],
      default: { sinks: ['a'] },
    });
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^routes\.tenants\[0\]\.key: missing; set routes\.key/),
      expect.stringMatching(/^routes\.tenants\[0\]\.match: missing/),
      expect.stringMatching(/^routes\.tenants\[0\]\.sinks: a route needs at least one sink/),
    ]));
    expect(base({ default: { sinks: ['a'] } })).toEqual([
      expect.stringMatching(/^sinks\[1\]: sink "b" is used by no route/),
      expect.stringMatching(/^sinks\[2\]: sink "es" is used by no route/),
    ]);
    expect(base({ default: { sinks: ['a', 'b', 'es'] } }, SINKS, { plugins: { chain: [JSON_FMT] } })).toEqual([
      expect.stringMatching(/^plugins\.chain\[0\]: a formatter in plugins\.chain: with routes/),
    ]);
  });

  it('duplicate names: two sinks, two routes, a route named default', () => {
    expect(problems({ sinks: [{ type: 'stdout', name: 'x' }, { type: 'file', name: 'x', path: '/tmp/y' }] })).toEqual([
      expect.stringMatching(/^sinks\[1\]\.name: "x" is already the name of sinks\[0\]/),
    ]);
    const p = base({ key: 'host', tenants: [{ name: 't', match: { values: ['1'] }, sinks: ['a'] }, { name: 't', match: { values: ['2'] }, sinks: ['a'] }, { name: 'default', match: { values: ['3'] }, sinks: ['a'] }], default: { sinks: ['b', 'es'] } });
    expect(p).toEqual([
      expect.stringMatching(/^routes\.tenants\[1\]\.name: "t" is already the name of routes\.tenants\[0\]/),
      expect.stringMatching(/^routes\.tenants\[2\]\.name: "default" names the default route/),
    ]);
  });

  it('unknown keys and shapes', () => {
    expect(base({ key: 'host', tenant: [] })).toEqual(expect.arrayContaining([expect.stringMatching(/^routes\.tenant: unknown setting/)]));
    expect(base([])).toEqual([expect.stringMatching(/^routes: found a list; expected a mapping/)]);
    expect(base({ key: 'host', tenants: [{ name: 't', match: { value: ['x'] }, sinks: ['a'] }], default: { sinks: ['b', 'es'] } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^routes\.tenants\[0\]\.match\.value: unknown setting.*did you mean values\?/)]),
    );
  });
});

describe('without routes', () => {
  it('a non-JSON formatter in plugins.chain cannot feed an elasticsearch sink', () => {
    expect(problems({ sinks: SINKS, plugins: { chain: [CEF_FMT] } })).toEqual([expect.stringMatching(/^sinks\[2\]: an elasticsearch sink indexes JSON documents, but plugins\.chain's formatter cef writes text\/plain/)]);
    expect(problems({ sinks: SINKS, plugins: { chain: [JSON_FMT] } })).toEqual([]);
  });
});

describe('routes in a YAML file', () => {
  it('problems are located at their line', () => {
    const text = [
      'sinks:',
      '  - {type: file, name: a, path: /tmp/a.log}',
      'routes:',
      '  key: source_namespace',
      '  tenants:',
      '    - name: t',
      '      match: {values: [x]}',
      '      sinks: [b]',
      '',
    ].join('\n');
    let lines: string[] = [];
    try {
      parseConfigText(text, 'routes.yaml');
    } catch (err) {
      lines = (err as ConfigError).problems.map(formatProblem);
    }
    expect(lines).toEqual([
      expect.stringMatching(/^line 2, column 5: sinks\[0\]: sink "a" is used by no route/),
      expect.stringMatching(/^line 8, column 15: routes\.tenants\[0\]\.sinks\[0\]: unknown sink "b"/),
    ]);
  });
});
