/** docs/config.md documents every setting and alias; the example file is accepted and matches the defaults. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALIASES, aliasesOf } from '../../host/config/aliases.js';
import { loadConfig } from '../../host/config/load.js';
import { SETTING_KEYS } from '../../host/config/schema.js';
import { DEFAULT_CONFIG } from '../../host/config/settings.js';

const docs = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');

describe('docs/config.md', () => {
  it('has the schema cover every AgentConfig key', () => {
    expect([...SETTING_KEYS].sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
  });
  it('documents every setting in the table and in its own section, with its aliases', () => {
    for (const key of SETTING_KEYS) {
      expect(docs, `${key} row`).toContain(`| \`${key}\` |`);
      const section = docs.split(`\n### \`${key}\`\n`)[1]?.split('\n### ')[0];
      expect(section, `${key} section`).toBeDefined();
      expect(section, `${key} default`).toMatch(/Default/);
      const aliases = aliasesOf(key);
      if (aliases.length === 0) expect(section).toContain('No aliases.');
      for (const a of aliases) expect(section, `${key} alias ${a}`).toContain(`\`${a}\``);
    }
    expect(ALIASES.size).toBe(24);
  });
  it('ships an example file that config check accepts, setting every key to its default', () => {
    const example = new URL('../../docs/procflow.example.yaml', import.meta.url).pathname;
    expect(loadConfig(example)).toEqual(DEFAULT_CONFIG);
    const text = readFileSync(example, 'utf8');
    for (const key of SETTING_KEYS) expect(text, key).toMatch(new RegExp(`^${key}:`, 'm'));
  });
});
