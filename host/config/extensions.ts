/**
 * EXTENSION POINT: top-level keys owned by other modules.
 *
 * `plugins:` belongs to the plugin host (host/plugins/config.ts, which will
 * export its validator). Until that module exists, `plugins` is accepted
 * unchecked and passed through as `unknown`. When it lands, replace the
 * pass-through below with its validator (same Checker signature) so plugin
 * problems are reported with every other problem of the file.
 */
import type { Checker } from './fields.js';

/** Extra top-level keys and their checkers; their values are passed through on the loaded config. */
export const EXTENSIONS: Readonly<Record<string, Checker<unknown>>> = {
  // TODO(plugins): use host/plugins/config.ts's validator once it exists.
  plugins: (value) => value,
};

/** The loaded config: AgentConfig plus the extension keys that were given. */
export interface ExtensionValues {
  /** Plugin settings, unchecked until host/plugins/config.ts provides a validator. */
  plugins?: unknown;
}
