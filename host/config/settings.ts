/**
 * The agent's settings: their types, documentation and embedded defaults.
 * Names are those operators know from the flow log settings of the product
 * this replaces, without its `flowLogs` / `flowLogsFile` prefix (the prefixed
 * names are accepted as aliases by the loader). A config file overlays the
 * defaults key by key.
 */
import type { HookMode } from '../sources/bpf/hooks.js';

/** `Enabled` fills the full executable path and arguments; `Disabled` reports the task name and pid only. */
export type CollectProcessPath = 'Enabled' | 'Disabled';

/** Aggregation level: 0 none (5-tuple), 1 source ports merged, 2 also endpoints by owner/prefix (pvt/pub), 3 destination ports too. */
export type AggregationKind = 0 | 1 | 2 | 3;

/** What to do with a new flow when the flow table is full. */
export type FlowTableOverflow = 'drop-new' | 'evict-idle';

import type { ElasticsearchSinkConfig } from '../sinks/elasticsearch/config.js';
import type { FileSinkConfig } from '../sinks/file/config.js';
import type { FluentForwardSinkConfig } from '../sinks/fluent-forward/config.js';
import type { HttpSinkConfig } from '../sinks/http/config.js';
import type { StdoutSinkConfig } from '../sinks/stdout/config.js';
import type { SyslogSinkConfig } from '../sinks/syslog/config.js';

export type { ElasticsearchSinkConfig, FileSinkConfig, FluentForwardSinkConfig, HttpSinkConfig, StdoutSinkConfig, SyslogSinkConfig };

/** One entry of `sinks`: its `type` says which (host/sinks/<type>/config.ts documents its keys). */
export type SinkConfig = FileSinkConfig | StdoutSinkConfig | ElasticsearchSinkConfig | FluentForwardSinkConfig | HttpSinkConfig | SyslogSinkConfig;

/** Every setting of `procflow run`. */
export interface AgentConfig {
  /** How often aggregated records are emitted (ms; written as a duration: 500ms, 15s, 5m, 1h). */
  flushInterval: number;
  /** Process name and pid at all; false turns every process field to `-` and wins over collectProcessPath. */
  collectProcessInfo: boolean;
  /** Enabled: full path and args; Disabled: task name (comm) and pid only. */
  collectProcessPath: CollectProcessPath;
  /** Aggregation level of allowed flows (default 2). */
  aggregationKindForAllowed: AggregationKind;
  /** Aggregation level of denied flows (accepted for compatibility: a host agent denies nothing). */
  aggregationKindForDenied: AggregationKind;
  /** Distinct processes kept per aggregated flow before `*` (default 2). */
  perFlowProcessLimit: number;
  /** Distinct argument lists kept per aggregated flow (default 5). */
  perFlowProcessArgsLimit: number;
  /** Whether flows on loopback addresses are logged (default true). */
  includeLoopback: boolean;
  /** Processes the cache holds; the oldest exited ones are evicted first (default 65536). */
  processCacheMaxEntries: number;
  /** How long an exited process stays resolvable (ms; default flushInterval + 30 s when unset). */
  exitedProcessRetention: number | undefined;
  /** Connections the flow table tracks (default 200000). */
  flowTableMaxEntries: number;
  /** What happens to a new connection when the table is full (default evict-idle, counted either way). */
  flowTableOverflow: FlowTableOverflow;
  /** BPF hook family: auto (tp_btf → tracepoint → kprobe), tracepoint, kprobe. */
  hooks: HookMode;
  /** Total argv bytes captured per exec, elements kept whole (default 4096, max 16384). */
  argsCap: number;
  /** How often running processes are re-read from the kernel so nothing long-lived is missed (ms; default 60 s). */
  processRefreshInterval: number;
  /** How often the agent logs its stats line (ms; default 60 s). */
  statsInterval: number;
  /** Exclude the agent's own connections (to its sinks) from the flow logs (default true). */
  excludeSelf: boolean;
  /** Directory for the agent's data (created 0700). */
  dataDir: string;
  /** Where records go. */
  sinks: SinkConfig[];
  /** Node name written in `host` (default: the machine's hostname). */
  nodeName: string | undefined;
}

/** The embedded defaults: `npm start` needs nothing else. */
export const DEFAULT_CONFIG: AgentConfig = {
  flushInterval: 15_000,
  collectProcessInfo: true,
  collectProcessPath: 'Enabled',
  aggregationKindForAllowed: 2,
  aggregationKindForDenied: 1,
  perFlowProcessLimit: 2,
  perFlowProcessArgsLimit: 5,
  includeLoopback: true,
  processCacheMaxEntries: 65_536,
  exitedProcessRetention: undefined,
  flowTableMaxEntries: 200_000,
  flowTableOverflow: 'evict-idle',
  hooks: 'auto',
  argsCap: 4096,
  processRefreshInterval: 60_000,
  statsInterval: 60_000,
  excludeSelf: true,
  dataDir: './procflow-data',
  sinks: [{ type: 'file', path: './procflow-data/flows.log', maxFileSizeMB: 100, maxFiles: 5 }],
  nodeName: undefined,
};

/** Retention of exited processes actually used: the setting, or one flush interval plus 30 s. */
export function effectiveRetention(c: AgentConfig): number {
  return c.exitedProcessRetention ?? c.flushInterval + 30_000;
}
