/// <reference path="./procflow-plugin-types.d.ts" />
declare module 'procflow:plugin/host@0.1.0' {
  /**
   * Writes a structured log line through the agent's logger, tagged with the plugin's name.
   */
  export function log(level: Level, message: string): void;
  /**
   * The plugin's own configuration (the `config:` map of its YAML entry), as key/value pairs.
   */
  export function config(): Array<[string, string]>;
  /**
   * A process by pid, as of the batch being processed; none when the host does not know it.
   */
  export function getProcess(pid: number): Process | undefined;
  /**
   * The process and its ancestors, nearest first (pid, parent, grandparent, … up to 16).
   */
  export function processChain(pid: number): Array<Process>;
  /**
   * The process the host attributed a flow of the current batch to, by flow id;
   * none when the flow has no single pid (`process_id` is `*` or `-`).
   */
  export function flowProcess(flowId: string): Process | undefined;
  export type Level = import('procflow:plugin/types@0.1.0').Level;
  export type Process = import('procflow:plugin/types@0.1.0').Process;
}
