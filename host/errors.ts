/**
 * The catalog of procflow's errors. Every error an operator can meet has a
 * stable code (`PROCFLOW_E_*`) and a message that says how to fix it; kernel
 * feature errors name the feature and the minimum kernel that has it.
 * docs/errors.md lists them all (a test keeps the two in step).
 */

/** One catalog entry: a stable code and a message template ({name} placeholders). */
export interface ErrorSpec {
  readonly code: string;
  readonly message: string;
}

function spec<C extends string>(code: C, message: string): ErrorSpec & { code: C } {
  return { code, message };
}

/** Every error procflow reports, by code. */
export const ERRORS = {
  NOT_ROOT: spec(
    'PROCFLOW_E_NOT_ROOT',
    'procflow needs root or the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (missing: {missing}). Run it with sudo, or grant them: setcap cap_bpf,cap_perfmon,cap_net_admin+ep "$(command -v node)"; in a container add --cap-add BPF,PERFMON,NET_ADMIN and --security-opt seccomp=unconfined.',
  ),
  NO_BTF: spec(
    'PROCFLOW_E_NO_BTF',
    'Kernel BTF (/sys/kernel/btf/vmlinux) is missing: procflow\'s CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y (Linux 5.2+; every Debian, Ubuntu 20.10+, RHEL 8.2+ kernel has it). Install your distribution\'s standard kernel.',
  ),
  KERNEL_TOO_OLD: spec(
    'PROCFLOW_E_KERNEL_TOO_OLD',
    'Kernel {version} lacks {feature}, which procflow needs (Linux {min}+). Upgrade the kernel to {min} or newer.',
  ),
  BPF_OBJECT_MISSING: spec(
    'PROCFLOW_E_BPF_OBJECT_MISSING',
    'The compiled BPF object {path} is missing. Build it with `npm run build:bpf` (needs: apt-get install clang libbpf-dev bpftool).',
  ),
  LIBBPF_MISSING: spec(
    'PROCFLOW_E_LIBBPF_MISSING',
    'libbpf.so.1 could not be loaded ({reason}). Install it: apt-get install libbpf1 (Debian 12+, Ubuntu 22.04+).',
  ),
  BPF_OPEN: spec('PROCFLOW_E_BPF_OPEN', 'Opening the BPF object {path} failed: {reason}. Rebuild it with `npm run build:bpf`.'),
  BPF_LOAD: spec(
    'PROCFLOW_E_BPF_LOAD',
    'The kernel refused to load BPF program {program}: {reason}. {hint}',
  ),
  HOOK_ATTACH: spec(
    'PROCFLOW_E_HOOK_ATTACH',
    'No variant of hook {hook} could be attached ({reasons}). Run `procflow check` to see each hook\'s refusal; try --hooks auto.',
  ),
  EXEC_HOOK_MISSING: spec(
    'PROCFLOW_E_EXEC_HOOK_MISSING',
    'Exec capture is not available: {reason}. Short-lived processes cannot be attributed without it; see `procflow check`.',
  ),
  RINGBUF_MAP: spec('PROCFLOW_E_RINGBUF_MAP', 'Mapping the BPF ring buffer failed: {reason}. Raise the memory limit of procflow\'s cgroup or lower ringBufferSize.'),
  CONFIG_INVALID: spec('PROCFLOW_E_CONFIG_INVALID', 'Invalid setting {field}: {reason}. {fix}'),
  USAGE: spec('PROCFLOW_E_USAGE', '{reason}. Run `procflow --help` for usage.'),
  SINK_OPEN: spec(
    'PROCFLOW_E_SINK_OPEN',
    'Cannot open the output {path}: {reason}. Check the permissions of its directory, or choose another path (--output FILE, or sinks[].path / dataDir in the config).',
  ),
  SINK_DELIVERY: spec('PROCFLOW_E_SINK_DELIVERY', 'Sink {sink} could not deliver {count} records ({reason}); they stay queued and are retried with backoff. {fix}'),
  SINK_AUTH: spec('PROCFLOW_E_SINK_AUTH', 'Sink {sink}: the destination refused procflow\'s credentials ({reason}); records stay queued and are retried. Fix the credentials of sinks[] ({fields}) and restart the agent.'),
  SINK_REJECTED: spec('PROCFLOW_E_SINK_REJECTED', 'Sink {sink}: {count} records refused for good ({reason}); they were written to the dead-letter file {path} and are not resent. Fix the destination (e.g. install the index template: `procflow elastic setup --url URL`), then replay that file.'),
  SINK_FLUSH_TIMEOUT: spec('PROCFLOW_E_SINK_FLUSH_TIMEOUT', 'Sink {sink}: {remaining} records were not confirmed within the flush timeout ({timeoutMs} ms) at shutdown. {where}'),
  SINK_TLS: spec('PROCFLOW_E_SINK_TLS', 'Sink {sink}: cannot read the TLS file {path} ({reason}). Check sinks[].tls.{field}: a PEM file readable by the agent.'),
  SPOOL_OPEN: spec('PROCFLOW_E_SPOOL_OPEN', 'Cannot open the spool directory {dir} ({reason}). Check the permissions of dataDir, or set sinks[].spool.dir to a directory the agent can write.'),
  SPOOL_CORRUPT: spec('PROCFLOW_E_SPOOL_CORRUPT', 'Spool file {path} is corrupt at offset {offset} (a frame failed its checksum). Stop the agent, move the file aside (its records before that offset were read), and start again.'),
  SPOOL_CLOSED: spec('PROCFLOW_E_SPOOL_CLOSED', 'The spool {dir} was closed while records were waiting for room; they were not accepted. This happens when the agent stops while a full spool blocks the pipeline (whenFull: block).'),
  SPOOL_DROPPED: spec('PROCFLOW_E_SPOOL_DROPPED', 'Sink {sink}: the spool was full ({maxBytes} bytes) and {count} of its oldest records were dropped (whenFull: drop-oldest; {total} in total). Raise spool.maxSizeMB, or use whenFull: block to hold the pipeline instead.'),
  ELASTIC_SETUP: spec('PROCFLOW_E_ELASTIC_SETUP', 'procflow elastic setup: {step} failed against {url} ({reason}). {fix}'),
  ITER: spec('PROCFLOW_E_ITER', 'Running BPF iterator {program} failed: {reason}. Iterators need Linux 5.8+.'),
  PLUGIN_CONFIG: spec('PROCFLOW_E_PLUGIN_CONFIG', 'Invalid plugin setting {field}: {reason}. {fix}'),
  REDACT_KEY: spec('PROCFLOW_E_REDACT_KEY', 'Cannot use the redaction HMAC key file {path} ({reason}). {fix}'),
  PLUGIN_NOT_FOUND: spec('PROCFLOW_E_PLUGIN_NOT_FOUND', 'Plugin {name}: cannot read {path} ({reason}). Check the path in plugins.chain, or build the plugin with `procflow plugin build DIR`.'),
  PLUGIN_PIN_MISSING: spec('PROCFLOW_E_PLUGIN_PIN_MISSING', 'Plugin {name} ({path}) has no sha256 pin. Every plugin that is not built in must be pinned: add `sha256: {actual}` to its entry after checking that this is the file you mean to run.'),
  PLUGIN_PIN_MISMATCH: spec('PROCFLOW_E_PLUGIN_PIN_MISMATCH', 'Plugin {name} ({path}) has sha256 {actual}, but its entry pins {expected}. The file changed: rebuild or restore it, or update the pin if the new version is intended.'),
  PLUGIN_NOT_COMPONENT: spec('PROCFLOW_E_PLUGIN_NOT_COMPONENT', 'Plugin {name} ({path}) is not a WebAssembly component ({reason}). Build it with `procflow plugin build DIR` (a core module must be wrapped into a component).'),
  PLUGIN_IMPORT_REFUSED: spec('PROCFLOW_E_PLUGIN_IMPORT_REFUSED', 'Plugin {name} imports {imports}, which the host does not offer. Plugins may import only procflow:plugin/host@0.1.0 (and WASI clocks/random when granted with `grants:`). Rebuild it without WASI (componentize-js: disableFeatures all; AssemblyScript: --use abort=).'),
  PLUGIN_WORLD: spec('PROCFLOW_E_PLUGIN_WORLD', 'Plugin {name} exports {exports}, which is not the {stage} world of procflow:plugin@0.1.0 (expected: {expected}). Build it against wit/plugin-0.1.0 with world `{stage}`, or move it to the stage it implements.'),
  PLUGIN_TRANSPILE: spec('PROCFLOW_E_PLUGIN_TRANSPILE', 'Plugin {name}: jco could not transpile the component ({reason}). Rebuild it with the procflow SDK (`procflow plugin build DIR`).'),
  PLUGIN_INSTANTIATE: spec('PROCFLOW_E_PLUGIN_INSTANTIATE', 'Plugin {name} failed to instantiate ({reason}). If it needs more memory than memoryMiB ({memoryMiB}), raise memoryMiB; otherwise fix the plugin.'),
  PLUGIN_TIMEOUT: spec('PROCFLOW_E_PLUGIN_TIMEOUT', 'Plugin {name} did not return within {timeoutMs} ms; its worker was terminated and respawned. Raise timeoutMs or make the plugin faster (smaller work per flow).'),
  PLUGIN_TRAP: spec('PROCFLOW_E_PLUGIN_TRAP', 'Plugin {name} trapped ({reason}); the instance was discarded and will be re-instantiated. Fix the plugin (run `procflow plugin test DIR` on the flows that trigger it).'),
  PLUGIN_MEMORY: spec('PROCFLOW_E_PLUGIN_MEMORY', 'Plugin {name} reached its memory cap of {memoryMiB} MiB and trapped; the instance was discarded. Raise memoryMiB or reduce what the plugin keeps per batch.'),
  PLUGIN_MALFORMED: spec('PROCFLOW_E_PLUGIN_MALFORMED', 'Plugin {name} returned malformed output ({reason}). The stage failure policy was applied; fix the plugin (see docs/plugins.md, "What a stage must return").'),
  PLUGIN_FAILED: spec('PROCFLOW_E_PLUGIN_FAILED', 'Plugin {name} reported an error: {reason}. The stage failure policy was applied.'),
  PLUGIN_RELOAD: spec('PROCFLOW_E_PLUGIN_RELOAD', 'Plugin reload (SIGHUP or a changed file) was not applied everywhere: {errors}. The chains named keep their previous plugins; fix the config or plugin and send SIGHUP again (route or sink changes need a restart).'),
  PLUGIN_BUILD: spec('PROCFLOW_E_PLUGIN_BUILD', 'Building plugin {dir} failed: {reason}. {fix}'),
  CONFIG: spec(
    'PROCFLOW_E_CONFIG',
    'Config {source} has {count}:\n{problems}\nFix each one; docs/config.md lists every setting with its type, default and aliases. `procflow config check FILE` checks a file without running.',
  ),
  CONFIG_FILE: spec('PROCFLOW_E_CONFIG_FILE', 'Cannot read config file {path} ({reason}). Check the path and that the file is readable by the agent.'),
  SINK_FORMAT: spec('PROCFLOW_E_SINK_FORMAT', 'Sink {sink} cannot carry the {contentType} items of route {route} ({reason}); {count} records of that route were not written to it. Give that route a JSON formatter, or send it to a file, http or syslog sink.'),
} as const;

/** A code from the catalog. */
export type ErrorCode = (typeof ERRORS)[keyof typeof ERRORS]['code'];

/** An error from the catalog: `code` is stable, `message` tells the fix. */
export class ProcflowError extends Error {
  readonly code: ErrorCode;
  readonly params: Readonly<Record<string, string | number>>;

  constructor(entry: ErrorSpec, params: Record<string, string | number> = {}, options?: { cause?: unknown }) {
    super(format(entry.message, params), options);
    this.name = 'ProcflowError';
    this.code = entry.code as ErrorCode;
    this.params = params;
  }
}

function format(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

/** True when `err` is a catalogued procflow error. */
export function isProcflowError(err: unknown): err is ProcflowError {
  return err instanceof ProcflowError;
}
