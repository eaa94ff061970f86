/**
 * `procflow elastic setup --url ES [--kibana-url KIBANA] [--api-key K | --username U --password P] [--ca FILE] [--insecure]`:
 * installs the index template for `procflow-flows-*` (every schema field
 * mapped: ip, keyword, long, date) and, with --kibana-url, imports the Kibana
 * saved objects (index pattern, "Flow logs" saved search and dashboard with
 * process_name and process_args). Files: deploy/elasticsearch/, deploy/kibana/.
 * Exits 0 when everything was installed, 2 with PROCFLOW_E_ELASTIC_SETUP otherwise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, fetch, FormData } from 'undici';
import { ERRORS, ProcflowError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';
import { authorization } from '../sinks/elasticsearch/service.js';

/** The shipped files. */
export const TEMPLATE_PATH = join(PROJECT_ROOT, 'deploy', 'elasticsearch', 'procflow-flows.index-template.json');
export const KIBANA_OBJECTS_PATH = join(PROJECT_ROOT, 'deploy', 'kibana', 'procflow-flow-logs.ndjson');
/** Name of the installed index template. */
export const TEMPLATE_NAME = 'procflow-flows';

/** What `setup` connects to and with which credentials. */
export interface ElasticSetupOptions {
  url: string;
  kibanaUrl?: string | undefined;
  apiKey?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  ca?: string | undefined;
  insecure?: boolean;
}

const USAGE = 'procflow elastic setup --url ES_URL [--kibana-url KIBANA_URL] [--api-key KEY | --username U --password P] [--ca FILE] [--insecure]';

/** Runs `procflow elastic …`; resolves with the exit code. */
export async function runElastic(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      url: { type: 'string' }, 'kibana-url': { type: 'string' }, 'api-key': { type: 'string' },
      username: { type: 'string' }, password: { type: 'string' }, ca: { type: 'string' }, insecure: { type: 'boolean', default: false },
    },
  });
  if (positionals[0] !== 'setup' || !values.url) throw new ProcflowError(ERRORS.USAGE, { reason: `Usage: ${USAGE}` });
  const done = await elasticSetup({
    url: values.url, kibanaUrl: values['kibana-url'], apiKey: values['api-key'], username: values.username, password: values.password,
    ca: values.ca, insecure: values.insecure,
  });
  for (const line of done) process.stdout.write(`${line}\n`);
  return 0;
}

/** Installs the template (and the Kibana objects); returns what was done, one line each. Throws PROCFLOW_E_ELASTIC_SETUP. */
export async function elasticSetup(o: ElasticSetupOptions): Promise<string[]> {
  let ca: Buffer | undefined;
  if (o.ca) {
    try {
      ca = readFileSync(o.ca);
    } catch (err) {
      throw new ProcflowError(ERRORS.ELASTIC_SETUP, { step: 'reading --ca', url: o.ca, reason: (err as NodeJS.ErrnoException).code ?? String(err), fix: 'Give a readable PEM file.' });
    }
  }
  const dispatcher = new Agent({ connect: { ...(ca ? { ca } : {}), rejectUnauthorized: !o.insecure } });
  const auth = authorization({ apiKey: o.apiKey, username: o.username, password: o.password });
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  const base = (u: string) => u.replace(/\/+$/, '');
  const out: string[] = [];
  try {
    const call = async (step: string, url: string, init: { method: string; body?: string | FormData; headers?: Record<string, string> }, fix: string) => {
      let res;
      try {
        res = await fetch(url, { ...init, headers: { ...headers, ...init.headers }, dispatcher });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new ProcflowError(ERRORS.ELASTIC_SETUP, { step, url, reason: cause?.code ?? cause?.message ?? (err as Error).message, fix: 'Check the URL and that it is reachable from here (TLS: --ca FILE).' });
      }
      const text = await res.text();
      if (!res.ok) {
        const why = res.status === 401 || res.status === 403 ? 'Check --api-key or --username/--password (the user needs manage_index_templates, and Kibana saved-object rights).' : fix;
        throw new ProcflowError(ERRORS.ELASTIC_SETUP, { step, url, reason: `HTTP ${res.status}: ${text.slice(0, 300)}`, fix: why });
      }
      return JSON.parse(text) as Record<string, unknown>;
    };
    const info = await call('reaching Elasticsearch', `${base(o.url)}/`, { method: 'GET' }, 'Give the Elasticsearch URL (port 9200), not Kibana\'s.');
    const version = String((info.version as { number?: string } | undefined)?.number ?? '?');
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major < 7 || (major === 7 && minor < 8)) {
      throw new ProcflowError(ERRORS.ELASTIC_SETUP, { step: 'checking the version', url: o.url, reason: `Elasticsearch ${version}`, fix: 'Composable index templates need Elasticsearch 7.8 or newer.' });
    }
    out.push(`Elasticsearch ${version} at ${base(o.url)}`);
    const template = readFileSync(TEMPLATE_PATH, 'utf8');
    await call('installing the index template', `${base(o.url)}/_index_template/${TEMPLATE_NAME}`, { method: 'PUT', body: template, headers: { 'content-type': 'application/json' } }, 'See the response above.');
    out.push(`index template ${TEMPLATE_NAME} installed (index_patterns procflow-flows-*)`);
    if (o.kibanaUrl) {
      const form = new FormData();
      form.append('file', new Blob([readFileSync(KIBANA_OBJECTS_PATH)], { type: 'application/ndjson' }), 'procflow-flow-logs.ndjson');
      const res = await call('importing the Kibana saved objects', `${base(o.kibanaUrl)}/api/saved_objects/_import?overwrite=true`, { method: 'POST', body: form, headers: { 'kbn-xsrf': 'procflow' } }, 'Give the Kibana URL (port 5601).');
      if (res.success !== true) {
        throw new ProcflowError(ERRORS.ELASTIC_SETUP, { step: 'importing the Kibana saved objects', url: o.kibanaUrl, reason: JSON.stringify(res.errors ?? res).slice(0, 300), fix: 'Kibana 8.x is needed; see the errors above.' });
      }
      out.push(`Kibana: ${res.successCount as number} saved objects imported (index pattern procflow-flows-*, saved search and dashboard "Flow logs")`);
    } else {
      out.push(`Kibana objects not installed (no --kibana-url): import ${KIBANA_OBJECTS_PATH} in Stack Management → Saved objects, or rerun with --kibana-url`);
    }
    return out;
  } finally {
    await dispatcher.close();
  }
}
