/**
 * Golden files of the built-in formats: the fixture records through the real
 * plugin chain, compared byte for byte with test/plugins/formats/golden/.
 * PROCFLOW_UPDATE_GOLDEN=1 rewrites them — only on purpose, and review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveBuiltin } from '../../../host/plugins/builtin.js';
import { flows, plugin } from '../helpers.js';
import { FORMAT_FIXTURES, runFormat } from './fixtures.js';

const FORMATS: { name: string; contentType: string; ext: string }[] = [
  { name: 'calico-json', contentType: 'application/json', ext: 'ndjson' },
  { name: 'ecs', contentType: 'application/json', ext: 'ndjson' },
  { name: 'ocsf', contentType: 'application/json', ext: 'ndjson' },
  { name: 'otlp-json', contentType: 'application/json', ext: 'ndjson' },
  { name: 'cef', contentType: 'text/plain', ext: 'cef' },
];

describe('built-in formats match their golden files', () => {
  for (const f of FORMATS) {
    it(`${f.name}: one item per flow, content type ${f.contentType}, bytes as in golden/${f.name}.${f.ext}`, async () => {
      const out = await runFormat(f.name, FORMAT_FIXTURES);
      expect(out.contentType).toBe(f.contentType);
      expect(out.items).toHaveLength(FORMAT_FIXTURES.length);
      expect(Object.values(out.stats.failures).every((n) => n === 0)).toBe(true);
      expect(out.stats.flowsFallbackFormatted).toBe(0);
      // One item per line: no item may contain a line break of its own.
      for (const item of out.items) expect(item).not.toMatch(/[\r\n]/);
      const file = new URL(`./golden/${f.name}.${f.ext}`, import.meta.url);
      const text = `${out.items.join('\n')}\n`;
      if (process.env.PROCFLOW_UPDATE_GOLDEN === '1') writeFileSync(file, text);
      expect(existsSync(file), `${file.pathname} missing: run with PROCFLOW_UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(text).toBe(readFileSync(file, 'utf8'));
      // Registered: `path: builtin:NAME` in a chain resolves to this same component.
      expect(await resolveBuiltin(f.name)).toBe((await plugin(`builtin/${f.name}`)).wasm);
    });
  }
});

describe('built-in formats on full batches', () => {
  for (const f of FORMATS) {
    it(`${f.name}: 3000 flows (three 1000-flow batches) under the default memory cap, no failure, no fallback`, async () => {
      const input = flows(3000, (i) => ({ process_args: [[`--n-${i}`, 'x'.repeat(i % 300)]], source_labels: i % 2 ? { app: `a${i}` } : '-' }));
      const out = await runFormat(f.name, input);
      expect(out.items).toHaveLength(3000);
      expect(out.stats).toMatchObject({ flowsIn: 3000, flowsOut: 3000, flowsFallbackFormatted: 0 });
      expect(Object.values(out.stats.failures).every((n) => n === 0)).toBe(true);
      expect(out.items[2999]).toContain('--n-2999');
    });
  }
});
