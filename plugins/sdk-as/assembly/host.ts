// The host world's imports, wrapped: authors call log/config/getProcess and never see the ABI.
import { RET_AREA } from "./abi";

// @ts-ignore: decorator
@external("procflow:plugin/host@0.1.0", "log")
declare function hostLog(level: i32, ptr: usize, len: usize): void;
// @ts-ignore: decorator
@external("procflow:plugin/host@0.1.0", "config")
declare function hostConfig(ret: usize): void;
// @ts-ignore: decorator
@external("procflow:plugin/host@0.1.0", "get-process")
declare function hostGetProcess(pid: u32, ret: usize): void;
// @ts-ignore: decorator
@external("procflow:plugin/host@0.1.0", "process-chain")
declare function hostProcessChain(pid: u32, ret: usize): void;
// @ts-ignore: decorator
@external("procflow:plugin/host@0.1.0", "flow-process")
declare function hostFlowProcess(ptr: usize, len: usize, ret: usize): void;

/** Log severities (the WIT `level` enum). */
export enum Level { Debug = 0, Info = 1, Warn = 2, Error = 3 }

/** Writes a log line through the agent's logger, tagged with this plugin's name. */
export function log(level: Level, message: string): void {
  const buf = String.UTF8.encode(message);
  hostLog(<i32>level, changetype<usize>(buf), buf.byteLength);
}

@inline function str(ptr: usize): string {
  return String.UTF8.decodeUnsafe(load<u32>(ptr), load<u32>(ptr, 4));
}

/** This plugin's `config:` map from the YAML. */
export function config(): Map<string, string> {
  hostConfig(RET_AREA);
  const base = <usize>load<u32>(RET_AREA);
  const n = load<u32>(RET_AREA, 4);
  const out = new Map<string, string>();
  for (let i: u32 = 0; i < n; i++) {
    const e = base + i * 16;
    out.set(str(e), str(e + 8));
  }
  return out;
}

/** A process the host knows (the WIT `process` record). */
export class Process {
  pid: u32 = 0;
  ppid: u32 = 0;
  name: string = "";
  args: string[] = [];
  /** cgroup v2 path relative to the cgroup2 root (e.g. `/system.slice/docker-<id>.scope`); "" when unknown. */
  cgroup: string = "";
  /** Real user id. */
  uid: u32 = 0;
}

// Canonical ABI layout of the WIT `process` record: pid 0, ppid 4, name 8, args 16, cgroup 24, uid 32.
const PROCESS_SIZE: usize = 36;

function readProcess(p: usize): Process {
  const proc = new Process();
  proc.pid = load<u32>(p);
  proc.ppid = load<u32>(p, 4);
  proc.name = str(p + 8);
  const argsPtr = <usize>load<u32>(p, 16);
  const argsLen = load<u32>(p, 20);
  const args = new Array<string>(argsLen);
  for (let i: u32 = 0; i < argsLen; i++) unchecked(args[i] = str(argsPtr + i * 8));
  proc.args = args;
  proc.cgroup = str(p + 24);
  proc.uid = load<u32>(p, 32);
  return proc;
}

/** A process by pid as of the current batch, or null. */
export function getProcess(pid: u32): Process | null {
  hostGetProcess(pid, RET_AREA);
  if (load<u8>(RET_AREA) == 0) return null;
  return readProcess(RET_AREA + 4);
}

/** The process and its ancestors, nearest first. */
export function processChain(pid: u32): Process[] {
  hostProcessChain(pid, RET_AREA);
  const base = <usize>load<u32>(RET_AREA);
  const n = load<u32>(RET_AREA, 4);
  const out = new Array<Process>(n);
  for (let i: u32 = 0; i < n; i++) unchecked(out[i] = readProcess(base + i * PROCESS_SIZE));
  return out;
}

/** The process a flow of the current batch was attributed to, or null. */
export function flowProcess(flowId: string): Process | null {
  const buf = String.UTF8.encode(flowId);
  hostFlowProcess(changetype<usize>(buf), buf.byteLength, RET_AREA);
  if (load<u8>(RET_AREA) == 0) return null;
  return readProcess(RET_AREA + 4);
}
