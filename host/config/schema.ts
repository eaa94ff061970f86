/**
 * The config file's schema: one checker per AgentConfig key, with the ranges
 * each setting allows. docs/config.md documents the same keys and limits.
 */
import { HOOK_MODES } from '../sources/bpf/hooks.js';
import { PF_ARGS_MAX } from '../sources/bpf/layout.js';
import { bool, duration, int, oneOf, optional, text, type Checker } from './fields.js';
import type { AgentConfig } from './settings.js';
import { sinks } from './sinks.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const MAX_ENTRIES = 16_777_216;

/** Every setting and how its value is checked. */
export const SCHEMA: { readonly [K in keyof AgentConfig]-?: Checker<AgentConfig[K]> } = {
  flushInterval: duration(100, 24 * HOUR),
  collectProcessInfo: bool,
  collectProcessPath: oneOf(['Enabled', 'Disabled'] as const),
  aggregationKindForAllowed: oneOf([0, 1, 2, 3] as const),
  aggregationKindForDenied: oneOf([0, 1, 2, 3] as const),
  perFlowProcessLimit: int(1, 1000),
  perFlowProcessArgsLimit: int(1, 1000),
  includeLoopback: bool,
  processCacheMaxEntries: int(1024, MAX_ENTRIES),
  exitedProcessRetention: optional(duration(0, 24 * HOUR)),
  flowTableMaxEntries: int(1024, MAX_ENTRIES),
  flowTableOverflow: oneOf(['drop-new', 'evict-idle'] as const),
  hooks: oneOf(HOOK_MODES),
  argsCap: int(64, PF_ARGS_MAX),
  processRefreshInterval: duration(SECOND, 24 * HOUR),
  statsInterval: duration(SECOND, 24 * HOUR),
  excludeSelf: bool,
  dataDir: text,
  sinks,
  nodeName: optional(text),
};

/** The setting names, in documentation order. */
export const SETTING_KEYS = Object.keys(SCHEMA) as (keyof AgentConfig)[];

/** Settings whose value is a duration (written back as text by `config check`). */
export const DURATION_KEYS: readonly (keyof AgentConfig)[] = ['flushInterval', 'exitedProcessRetention', 'processRefreshInterval', 'statsInterval'];
