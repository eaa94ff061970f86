/** The chain entry `procflow plugin build` prints (host/cli/plugin.ts yamlEntry): valid config, memory for TypeScript plugins. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { yamlEntry } from '../../host/cli/plugin.js';
import { validatePluginsConfig } from '../../host/plugins/config.js';

const built = { wasm: '/tmp/p/build/mask.wasm', sha256: 'ab'.repeat(32) };
const chainOf = (lang: string) => validatePluginsConfig(parse(`chain:\n${yamlEntry({ name: 'mask', world: 'redactor', lang }, built)}\n`)).chain;

describe('plugin build YAML entry', () => {
  it('is a valid chain entry pinned to the component', () => {
    expect(chainOf('as')).toEqual([{ name: 'mask', stage: 'redactor', path: built.wasm, sha256: built.sha256 }]);
  });

  it('gives a TypeScript (componentize-js) plugin 256 MiB of memory', () => {
    expect(chainOf('ts')[0]).toMatchObject({ name: 'mask', memoryMiB: 256 });
  });
});
