/**
 * procflow's command line: check, trace, run. Errors from the catalog are
 * printed as "CODE: message" (never a stack trace) with exit code 2.
 */
import { parseArgs } from 'node:util';
import { ERRORS, isProcflowError, ProcflowError } from '../errors.js';
import { createLogger } from '../log.js';
import { parseDuration, parseHookMode } from './args.js';
// Subcommands are imported when used: `check` need not load the plugin toolchain or the sinks.

const HELP = `procflow — which program opened every connection on this host

Usage:
  procflow check [--json] [--hooks auto|tracepoint|kprobe]
      Report kernel, BTF, capabilities, PID namespace and the hook chosen for
      each logical hook (or the kernel's refusal). Exit 0 when exec capture works.
  procflow trace [--json] [--duration D] [--hooks H] [--redact] [--args-cap N]
      Stream exec, exit and socket events as they arrive. Root-only local
      diagnostic: it prints RAW process arguments, secrets included, unless
      --redact applies the default redaction. --json writes one object per
      line on stdout (docs/trace-events.schema.json); logs go to stderr.
  procflow run [--config FILE] [--flush-interval D] [--output FILE] [--duration D] [--hooks H]
      Run the agent (npm start): flow logs with process path, args and pid.
      --output adds a file sink (rotated FILE.1 … FILE.N); --duration stops
      cleanly after D (durations: 500ms, 15s, 5m, 1h). Exit codes: 0 ok,
      2 config error, 3 missing privilege or kernel support.
  procflow config check FILE
      Validate a YAML config file without running: print the effective
      config (JSON) and exit 0, or list every problem and exit 2.
      Settings: docs/config.md.
  procflow plugin new NAME --lang as|ts [--world redactor|enricher|formatter] [--dir DIR]
  procflow plugin build DIR
  procflow plugin test DIR [--input FILE]
      Scaffold, build (WebAssembly component + sha256 pin) and try a plugin
      on fixture flows, printing what it changed. See docs/plugins.md.
  procflow elastic setup --url ES_URL [--kibana-url KIBANA_URL] [--api-key KEY | --username U --password P] [--ca FILE] [--insecure]
      Install the index template of procflow-flows-* (every field mapped:
      ip, keyword, long, date) and, with --kibana-url, the Kibana index
      pattern, "Flow logs" saved search and dashboard (files in deploy/).

Needs root, or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN, and Linux 5.17+ with BTF.
`;

/** Codes that mean "this host cannot run capture" (exit 3); every other catalogued error is a usage/config error (exit 2). */
const PRIVILEGE_OR_KERNEL = new Set([
  'PROCFLOW_E_NOT_ROOT', 'PROCFLOW_E_NO_BTF', 'PROCFLOW_E_KERNEL_TOO_OLD', 'PROCFLOW_E_LIBBPF_MISSING', 'PROCFLOW_E_BPF_OBJECT_MISSING',
  'PROCFLOW_E_BPF_OPEN', 'PROCFLOW_E_BPF_LOAD', 'PROCFLOW_E_EXEC_HOOK_MISSING', 'PROCFLOW_E_RINGBUF_MAP', 'PROCFLOW_E_HOOK_ATTACH',
]);

/** Exit code of a catalogued error: 3 missing privilege or kernel support, 2 otherwise. */
export function exitCodeOf(code: string): number {
  return PRIVILEGE_OR_KERNEL.has(code) ? 3 : 2;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const log = createLogger();
  try {
    // `plugin` has its own flags (--lang, --input …): hand it the rest of argv.
    if (argv[0] === 'plugin') return await (await import('./plugin.js')).runPlugin(argv.slice(1), log);
    if (argv[0] === 'elastic') return await (await import('./elastic.js')).runElastic(argv.slice(1));
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        hooks: { type: 'string' },
        duration: { type: 'string' },
        config: { type: 'string' },
        output: { type: 'string' },
        'flush-interval': { type: 'string' },
        redact: { type: 'boolean', default: false },
        'args-cap': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const command = positionals[0] ?? 'help';
    if (values.help || command === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    const hooks = parseHookMode(values.hooks);
    const argsCap = values['args-cap'] === undefined ? undefined : Number(values['args-cap']);
    if (argsCap !== undefined && !Number.isInteger(argsCap)) {
      throw new ProcflowError(ERRORS.CONFIG_INVALID, { field: '--args-cap', reason: `"${values['args-cap']}" is not an integer`, fix: 'Give a byte count, e.g. --args-cap 4096.' });
    }
    switch (command) {
      case 'check': {
        const { formatCheck, runCheck } = await import('./check.js');
        const report = runCheck({ hooks, argsCap }, log);
        process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCheck(report)}\n`);
        return report.ok ? 0 : 1;
      }
      case 'trace':
        return await (await import('./trace.js')).runTrace({
          json: values.json, hooks, redact: values.redact, argsCap,
          durationMs: values.duration ? parseDuration(values.duration, '--duration') : undefined,
        }, log);
      case 'run':
        return await (await import('./run.js')).runAgent({
          configPath: values.config,
          hooks: values.hooks === undefined ? undefined : hooks,
          argsCap,
          output: values.output,
          flushIntervalMs: values['flush-interval'] ? parseDuration(values['flush-interval'], '--flush-interval') : undefined,
          durationMs: values.duration ? parseDuration(values.duration, '--duration') : undefined,
        }, log);
      case 'config':
        return (await import('./config.js')).runConfig(positionals.slice(1));
      default:
        throw new ProcflowError(ERRORS.USAGE, { reason: `Unknown command "${command}"` });
    }
  } catch (err) {
    if (isProcflowError(err)) {
      process.stderr.write(`procflow: ${err.code}: ${err.message}\n`);
      return exitCodeOf(err.code);
    }
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`procflow: PROCFLOW_E_USAGE: ${err.message}. Run \`procflow --help\` for usage.\n`);
      return 2;
    }
    throw err;
  }
}
