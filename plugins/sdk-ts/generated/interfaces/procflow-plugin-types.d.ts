declare module 'procflow:plugin/types@0.1.0' {
  /**
   * How the bytes of a `batch` are encoded. A plugin says which one it reads
   * and writes (`batch-encoding` export); the host encodes to match.
   * # Variants
   * 
   * ## `"msgpack"`
   * 
   * MessagePack: an array of maps with the flow log field names (ENCODING.md).
   * ## `"json"`
   * 
   * UTF-8 JSON: the same array of objects. Cheaper for JavaScript plugins,
   * whose engine parses JSON natively.
   */
  export type Encoding = 'msgpack' | 'json';
  /**
   * A batch of flow records, encoded as the plugin's `encoding` says.
   */
  export type Batch = Uint8Array;
  /**
   * Severity of a plugin log line.
   * # Variants
   * 
   * ## `"debug"`
   * 
   * ## `"info"`
   * 
   * ## `"warn"`
   * 
   * ## `"error"`
   */
  export type Level = 'debug' | 'info' | 'warn' | 'error';
  /**
   * Labels of an endpoint: `-` (or another placeholder) when aggregated, or key/value pairs.
   */
  export type Labels = LabelsPlaceholder | LabelsSet;
  export interface LabelsPlaceholder {
    tag: 'placeholder',
    val: string,
  }
  export interface LabelsSet {
    tag: 'set',
    val: Array<[string, string]>,
  }
  /**
   * `all_policies` / `enforced_policies` / `pending_policies` entries (`index|tier|policy|action|rule`).
   */
  export interface PolicyLists {
    allPolicies: Array<string>,
    enforcedPolicies: Array<string>,
    pendingPolicies: Array<string>,
  }
  /**
   * The policies object of the schema, or its placeholder.
   */
  export type Policies = PoliciesPlaceholder | PoliciesSet;
  export interface PoliciesPlaceholder {
    tag: 'placeholder',
    val: string,
  }
  export interface PoliciesSet {
    tag: 'set',
    val: PolicyLists,
  }
  /**
   * The `tcp_*` fields of the schema.
   */
  export interface TcpStats {
    meanSendCongestionWindow: bigint,
    minSendCongestionWindow: bigint,
    meanSmoothRtt: bigint,
    maxSmoothRtt: bigint,
    meanMinRtt: bigint,
    maxMinRtt: bigint,
    meanMss: bigint,
    minMss: bigint,
    totalRetransmissions: bigint,
    lostPackets: bigint,
    unrecoveredTo: bigint,
  }
  /**
   * One aggregated flow for one interval: the Calico flow log record
   * (field `start-time` is `start_time` in a batch, and so on).
   */
  export interface Flow {
    /**
     * Stable id of the record; the host matches outputs to inputs by it.
     */
    id: string,
    startTime: bigint,
    endTime: bigint,
    host: string,
    /**
     * `allow` or `deny`.
     */
    action: string,
    /**
     * `src` or `dst`.
     */
    reporter: string,
    proto: string,
    sourceIp?: string,
    sourcePort?: number,
    sourceName: string,
    sourceNameAggr: string,
    sourceNamespace: string,
    sourceType: string,
    sourceLabels: Labels,
    destIp?: string,
    destPort?: number,
    destName: string,
    destNameAggr: string,
    destNamespace: string,
    destType: string,
    destLabels: Labels,
    destServiceName: string,
    destServiceNamespace: string,
    destServicePort: string,
    policies: Policies,
    bytesIn: bigint,
    bytesOut: bigint,
    packetsIn: bigint,
    packetsOut: bigint,
    numFlows: bigint,
    numFlowsStarted: bigint,
    numFlowsCompleted: bigint,
    /**
     * Full executable path; comm when unknown; `-` when off; `*` past the process limit.
     */
    processName: string,
    /**
     * The pid as a string; `*` when several; `-` when unknown.
     */
    processId: string,
    /**
     * Distinct argument lists, each one argv after argv[0], element by element.
     */
    processArgs: Array<Array<string>>,
    numProcessNames: bigint,
    numProcessIds: bigint,
    numProcessArgs: bigint,
    /**
     * TCP statistics, absent when not collected.
     */
    tcpStats?: TcpStats,
  }
  /**
   * A process as the host's process cache knows it.
   */
  export interface Process {
    pid: number,
    /**
     * 0 when the parent is unknown.
     */
    ppid: number,
    /**
     * Full executable path (or comm when the path is unknown).
     */
    name: string,
    /**
     * argv after argv[0]; already redacted by the host's floor rules.
     */
    args: Array<string>,
    /**
     * cgroup v2 path relative to the cgroup2 root, as the kernel reported it
     * for the process (e.g. `/system.slice/docker-<id>.scope`; `/` is the
     * root cgroup); empty when unknown.
     */
    cgroup: string,
    /**
     * Real user id.
     */
    uid: number,
  }
}
