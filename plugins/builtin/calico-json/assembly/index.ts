// Built-in formatter: the flows.log JSON line of each flow (byte for byte what
// the host's built-in format writes), transcoded straight from the batch.
import { Flow, Items, writeFlowLogJson } from "procflow-plugin-sdk";

export function format(flows: Flow[], items: Items): void {
  for (let i = 0; i < flows.length; i++) {
    writeFlowLogJson(unchecked(flows[i]), items.begin());
    items.end();
  }
}
