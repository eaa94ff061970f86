/** The `plugins:` key is validated by the plugin host's validator, with the file's other problems. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../host/config/load.js';

describe('plugins in the config file', () => {
  it('accepts a chain and passes it to the agent typed', () => {
    const c = parseConfigText('plugins:\n  chain:\n    - name: redact\n      stage: redactor\n      path: builtin:redact-args\n', 'inline');
    expect(c.plugins?.chain).toEqual([expect.objectContaining({ name: 'redact', stage: 'redactor', path: 'builtin:redact-args' })]);
  });

  it('reports a bad plugin entry by its path, together with other problems', () => {
    let message = '';
    try {
      parseConfigText('flushInterval: soon\nplugins:\n  chain:\n    - name: x\n      stage: bogus\n      path: /tmp/x.wasm\n', 'inline');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('flushInterval');
    expect(message).toMatch(/plugins\.chain\[0\]\.stage/);
  });
});
