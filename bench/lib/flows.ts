/** Flow batches the plugin benchmarks share (plugin-chain.ts, redact-rules.ts). */
import type { FlowRecord } from '../../host/flows/record.js';
import { exeOf, expand, readCorpus } from '../../test/redact/corpus.js';

/**
 * `n` command lines (argv[0] = the executable) from the redaction corpora of
 * test/redact/corpus/: secret and ordinary lines alternately, each with freshly
 * planted secrets; `repeat` consecutive lines share one (as the flows of one
 * process with several connections do).
 */
export function corpusCommandLines(n: number, repeat = 1): string[][] {
  const secrets = readCorpus('secrets');
  const ordinary = readCorpus('ordinary');
  const out: string[][] = [];
  let argv: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / repeat);
    if (i % repeat === 0) {
      const line = k % 2 === 0 ? secrets[(k >> 1) % secrets.length] : ordinary[(k >> 1) % ordinary.length];
      const words = expand(line).argv;
      argv = [exeOf(words), ...words.slice(1)];
    }
    out.push(argv);
  }
  return out;
}

/**
 * `n` command lines of `procs` long-lived processes (corpus lines, secrets
 * planted once per process), scattered over the flows as a busy host's
 * connections are: flow i belongs to process (i × 7919) mod procs.
 */
export function processCommandLines(n: number, procs: number): string[][] {
  const argvs = corpusCommandLines(procs, 1);
  return Array.from({ length: n }, (_, i) => argvs[(i * 7919) % procs]);
}

/** Flow `i` of batch `b`, run by `argv` (argv[0] = the executable) as process `pid`: schema placeholders, varying ports and counters. */
export function benchFlow(b: number, i: number, argv: string[], pid = 2000 + i): FlowRecord {
  return {
    id: `r1-${b}-${i}`, start_time: 1700000000, end_time: 1700000300, host: 'node-1', action: 'allow', reporter: 'src', proto: 'tcp',
    source_ip: '10.0.0.5', source_port: 30000 + i, source_name: '-', source_name_aggr: 'pvt', source_namespace: '-', source_type: 'net', source_labels: '-',
    dest_ip: `10.0.${b % 250}.${i % 250}`, dest_port: [5432, 443, 3306, 8443, 80][i % 5], dest_name: '-', dest_name_aggr: 'pvt', dest_namespace: '-', dest_type: 'net', dest_labels: '-',
    dest_service_name: '-', dest_service_namespace: '-', dest_service_port: '-', policies: '-',
    bytes_in: 1000 + i, bytes_out: 2000 + b, packets_in: 10, packets_out: 12, num_flows: 1, num_flows_started: 1, num_flows_completed: 1,
    process_name: argv[0], process_id: String(pid), process_args: [argv.slice(1)],
    num_process_names: 1, num_process_ids: 1, num_process_args: 1,
  };
}

/**
 * Command lines cut into batches of `size` flows. Each command line array is
 * one process with a pid of its own: the flows of one line (`repeat`, or a
 * long-lived process of processCommandLines) share their pid, as a process's
 * connections do.
 */
export function benchBatches(lines: string[][], size: number): FlowRecord[][] {
  const pids = new Map<string[], number>();
  const pidOf = (argv: string[]) => {
    let p = pids.get(argv);
    if (p === undefined) pids.set(argv, (p = 2000 + pids.size));
    return p;
  };
  const out: FlowRecord[][] = [];
  for (let b = 0; b * size < lines.length; b++) out.push(lines.slice(b * size, (b + 1) * size).map((argv, i) => benchFlow(b, i, argv, pidOf(argv))));
  return out;
}
