import { pino, type Logger } from 'pino';

/**
 * The agent's logger: JSON lines on stderr (stdout is reserved for data, e.g.
 * `procflow trace --json`). Level from PROCFLOW_LOG_LEVEL (default info).
 */
export function createLogger(level = process.env.PROCFLOW_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'procflow', level }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
