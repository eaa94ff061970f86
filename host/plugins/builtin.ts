/**
 * `builtin:NAME` plugins: the components under plugins/builtin/NAME, built
 * from source on first use (asc + jco, cached by content hash under
 * .cache/plugins/build, so later starts are a lookup).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS, ProcflowError } from '../errors.js';
import { BUILTIN_ALIASES, BUILTIN_DIR } from './builtin-names.js';
import { buildPlugin } from './build.js';
import type { BuiltinResolver } from './loader.js';

export { BUILTIN_ALIASES, BUILTIN_DIR } from './builtin-names.js';

/** Resolves `builtin:NAME` to the built component's path, building it if needed. */
export const resolveBuiltin: BuiltinResolver = async (name) => {
  const dir = join(BUILTIN_DIR, BUILTIN_ALIASES[name] ?? name);
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(dir)) {
    throw new ProcflowError(ERRORS.PLUGIN_NOT_FOUND, { name, path: `builtin:${name}`, reason: `no built-in plugin of that name in ${BUILTIN_DIR}` });
  }
  return (await buildPlugin(dir)).wasm;
};
