/// <reference path="./interfaces/procflow-plugin-host.d.ts" />
/// <reference path="./interfaces/procflow-plugin-types.d.ts" />
declare module 'procflow:plugin/redactor@0.1.0' {
  export type Batch = import('procflow:plugin/types@0.1.0').Batch;
  export type Encoding = import('procflow:plugin/types@0.1.0').Encoding;
  export type * as ProcflowPluginHost010 from 'procflow:plugin/host@0.1.0'; // import procflow:plugin/host@0.1.0
  export type * as ProcflowPluginTypes010 from 'procflow:plugin/types@0.1.0'; // import procflow:plugin/types@0.1.0
  export function batchEncoding(): Encoding;
  export function redact(flows: Batch): Batch;
  export type Result<T, E> = { tag: 'ok', val: T } | { tag: 'err', val: E };
}
