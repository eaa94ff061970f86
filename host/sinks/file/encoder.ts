/** The flows.log line of a record: what the file and stdout sinks write, byte for byte. */
import { renderFlowLog, type FlowRecord } from '../../flows/record.js';

/** One JSON record and a newline, in the schema's field names (renderFlowLog). */
export function encodeFlowLogLine(record: FlowRecord): Buffer {
  return Buffer.from(`${JSON.stringify(renderFlowLog(record))}\n`);
}
