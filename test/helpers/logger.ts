import { createLogger } from '../../host/log.js';

/** A logger for tests: warnings and errors only, on stderr. */
export const testLog = createLogger(process.env.PROCFLOW_LOG_LEVEL ?? 'warn');
