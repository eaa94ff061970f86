/**
 * The TypeScript SDK's redactor plumbing (plugins/sdk-ts/index.ts, runRedact)
 * run in Node: what goes back is `id` plus only the process fields that
 * changed, whether the author assigns new values or changes arrays in place.
 * (In StarlingMonkey the same code runs inside the component: ts-redactor.test.ts.)
 */
import { describe, expect, it, vi } from 'vitest';

// The host world's imports exist only inside a component; runRedact does not call them.
vi.mock('procflow:plugin/host@0.1.0', () => ({}));

interface Flow { id: string; process_name: string; process_id: string; process_args: string[][] }
type RunRedact = (fn: (flows: Flow[]) => Flow[] | void, bytes: Uint8Array) => Uint8Array;
// A computed specifier: the SDK is type-checked with its own tsconfig (its WIT imports resolve there).
const SDK = '../../plugins/sdk-ts/index.js';
const { runRedact } = (await import(SDK)) as { runRedact: RunRedact };

function flow(id: string, args: string[][], name = '/usr/bin/tool'): Record<string, unknown> {
  return { id, host: 'h', dest_port: 443, process_name: name, process_id: '42', process_args: args, num_process_args: args.length };
}
const bytes = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
const parse = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>[];

describe('runRedact', () => {
  it('returns id and only the changed process fields, for in-place and assigned changes alike', () => {
    const input = [
      flow('a', [['--token', 'abc']]), // element changed in place
      flow('b', [['-v']]), // new arrays, same content: unchanged
      flow('c', [['x']]), // name changed
      flow('d', [['--pw=1'], ['y']]), // one list of two replaced
      flow('e', []), // untouched
    ];
    const out = parse(runRedact((flows: Flow[]) => {
      flows[0].process_args[0][1] = '[REDACTED]';
      flows[1].process_args = flows[1].process_args.map((a) => a.slice());
      flows[2].process_name = 'tool';
      flows[2].process_id = '*';
      flows[3].process_args[0] = ['--pw=[REDACTED]'];
    }, bytes(input)));
    expect(out).toEqual([
      { id: 'a', process_args: [['--token', '[REDACTED]']] },
      { id: 'b' },
      { id: 'c', process_name: 'tool', process_id: '*' },
      { id: 'd', process_args: [['--pw=[REDACTED]'], ['y']] },
      { id: 'e' },
    ]);
  });

  it('uses the flows the author returns, compared by position', () => {
    const input = [flow('a', [['p']]), flow('b', [['q']])];
    const out = parse(runRedact((flows: Flow[]) => flows.map((f) => ({ ...f, process_args: [['z']] })), bytes(input)));
    expect(out).toEqual([{ id: 'a', process_args: [['z']] }, { id: 'b', process_args: [['z']] }]);
  });

  it('passes on extra flows whole (the host refuses such a batch) and turns a throw into the error string', () => {
    const input = [flow('a', [['p']])];
    const out = parse(runRedact((flows: Flow[]) => [...flows, flows[0]], bytes(input)));
    expect(out).toHaveLength(2);
    expect(out[1]).toMatchObject({ id: 'a', host: 'h' });
    expect(() => runRedact(() => { throw new Error('nope'); }, bytes(input))).toThrow('nope');
  });
});
