// procflow plugin SDK for AssemblyScript: import what you need from here.
//   import { Flow, Items, log, Level, config, fail } from "procflow-plugin-sdk";
// An author writes one function over a batch (see docs/plugins.md):
//   export function redact(flows: Flow[]): void       (redactor)
//   export function enrich(flows: Flow[]): void       (enricher)
//   export function format(flows: Flow[], items: Items): void  +  export const CONTENT_TYPE = "…"  (formatter)
export { Flow } from "./flow";
export { Items } from "./stages";
export { Writer, Reader } from "./msgpack";
export { writeFlowLogJson, jsonString, jsonNumber } from "./json";
export { log, Level, config, getProcess, processChain, flowProcess, Process } from "./host";
export { fail } from "./abi";
export * from "./format-helpers";
