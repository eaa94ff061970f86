/** The flows.log line of a record: what the file and stdout sinks write, byte for byte. */
import type { FlowRecord } from '../../flows/record.js';
import { flowLogJson } from '../common/flow-log-json.js';

/** One JSON record and a newline: the bytes of `JSON.stringify(renderFlowLog(record)) + "\n"`. */
export function encodeFlowLogLine(record: FlowRecord): Buffer {
  return Buffer.from(`${flowLogJson(record)}\n`);
}
