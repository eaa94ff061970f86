/**
 * The TypeScript SDK's `Flow` (what plugin authors type against) names the
 * same fields as the host's FlowRecord: the SDK is self-contained for authors,
 * so this test is what keeps the two lists from drifting apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../host/paths.js';

/** Field names declared in `export interface NAME { … }` of a TypeScript source. */
function fields(file: string, name: string): string[] {
  const src = readFileSync(join(PROJECT_ROOT, file), 'utf8');
  const start = src.indexOf(`export interface ${name} {`);
  expect(start, `${name} in ${file}`).toBeGreaterThanOrEqual(0);
  const body = src.slice(start, src.indexOf('\n}', start));
  return [...body.matchAll(/^\s{2}([a-z_][a-z0-9_]*)\??:/gm)].map((m) => m[1]);
}

describe('TypeScript SDK Flow', () => {
  it('has exactly the fields of the host FlowRecord', () => {
    const sdk = fields('plugins/sdk-ts/index.ts', 'Flow');
    const host = fields('host/flows/record.ts', 'FlowRecord');
    expect(host.length).toBeGreaterThan(30);
    expect(new Set(sdk)).toEqual(new Set(host));
  });
});
