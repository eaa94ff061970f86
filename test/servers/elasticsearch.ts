/**
 * An Elasticsearch stand-in for tests (Elasticsearch cannot be installed on
 * the test machines). It implements what the sink relies on, as the
 * Elasticsearch docs describe it, over a real HTTP socket:
 *
 * - POST /_bulk and /{index}/_bulk: NDJSON, terminated by a newline, actions
 *   index/create/delete/update, one result per action in `items`, in order,
 *   `errors` true when any failed; `_id` overwrites (result created/updated,
 *   _version bumped); create on an existing id is a 409
 *   version_conflict_engine_exception;
 * - mappings: per index, from an installed index template (PUT
 *   /_index_template/NAME) or dynamically from the first value seen; a value
 *   that does not fit (a string in a long, a non-address in an ip) is a 400
 *   document_parsing_exception for that item only;
 * - overload: whole-request 429 es_rejected_execution_exception and 503, and
 *   per-item 429s, injected by the test;
 * - security: with apiKey or basic credentials set, other requests get 401
 *   security_exception.
 *
 * test/servers/elasticsearch.test.ts checks it against the documented
 * example bulk requests and responses.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';

type FieldType = 'long' | 'keyword' | 'ip' | 'date' | 'text' | 'boolean' | 'object' | 'double' | 'disabled';

/** A stored document. */
export interface StoredDoc {
  index: string;
  id: string;
  version: number;
  source: Record<string, unknown>;
}

/** Test controls and what the server saw. */
export interface EsTestServer {
  url: string;
  port: number;
  /** Documents by `index/_id`. */
  docs: Map<string, StoredDoc>;
  /** Index templates installed (name → body). */
  templates: Map<string, { index_patterns: string[]; template?: { mappings?: { properties?: Record<string, { type: FieldType; enabled?: boolean }> } } }>;
  /** Bulk requests received (each counts, rejected ones too). */
  bulkRequests: number;
  /** Items received over all bulk requests (resends included). */
  itemsReceived: number;
  /** Items of each bulk request that was parsed (not failed as a whole). */
  bulkSizes: number[];
  /** Statuses to answer the next bulk requests with as a whole (e.g. [429, 503]), consumed in order. */
  failNext: number[];
  /** Answer this many upcoming items with a per-item 429 (then accept them). */
  itemRejectionsLeft: number;
  /** Every other request (other than bulk) received: "METHOD path". */
  otherRequests: string[];
  /** Set the server's credentials at run time. */
  auth: { apiKey?: string; username?: string; password?: string };
  ids(): Set<string>;
  close(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1 (port 0: any free port). */
export async function startEsServer(opts: { port?: number; tls?: { key: Buffer; cert: Buffer }; auth?: EsTestServer['auth'] } = {}): Promise<EsTestServer> {
  const mappings = new Map<string, Record<string, FieldType>>();
  let seqNo = 0;
  const state: EsTestServer = {
    url: '', port: 0, docs: new Map(), templates: new Map(), bulkRequests: 0, itemsReceived: 0, bulkSizes: [], failNext: [], itemRejectionsLeft: 0, otherRequests: [],
    auth: opts.auth ?? {},
    ids: () => new Set([...state.docs.values()].map((d) => d.id)),
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const mappingOf = (index: string): Record<string, FieldType> => {
    let m = mappings.get(index);
    if (!m) {
      m = {};
      for (const t of state.templates.values()) {
        if (!t.index_patterns.some((p) => new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`).test(index))) continue;
        for (const [k, v] of Object.entries(t.template?.mappings?.properties ?? {})) m[k] = v.enabled === false ? 'disabled' : v.type; // enabled: false: not parsed, any value
      }
      mappings.set(index, m);
    }
    return m;
  };

  /** The parsing error for a document, or undefined (dynamic fields are added to the mapping). */
  const parse = (index: string, id: string, source: Record<string, unknown>): { type: string; reason: string; caused_by?: { type: string; reason: string } } | undefined => {
    const m = mappingOf(index);
    const added: Record<string, FieldType> = {};
    for (const [field, value] of Object.entries(source)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) {
        if (v === null) continue;
        const type = m[field] ?? added[field] ?? dynamicType(v);
        if (!(field in m)) added[field] = type;
        const bad = fits(type, v);
        if (bad) {
          return {
            type: 'document_parsing_exception',
            reason: `[1:1] failed to parse field [${field}] of type [${type}] in document with id '${id}'. Preview of field's value: '${String(v).slice(0, 50)}'`,
            caused_by: { type: 'illegal_argument_exception', reason: bad },
          };
        }
      }
    }
    Object.assign(m, added);
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (!authorized(req, state.auth)) {
      return json(res, 401, { error: { root_cause: [{ type: 'security_exception', reason: 'unable to authenticate user' }], type: 'security_exception', reason: 'unable to authenticate user' }, status: 401 });
    }
    const bulk = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(url.pathname);
    if (req.method === 'POST' && bulk) {
      state.bulkRequests++;
      const failure = state.failNext.shift();
      if (failure === 429) {
        return json(res, 429, { error: { root_cause: [{ type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' }], type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' }, status: 429 });
      }
      if (failure !== undefined) return json(res, failure, { error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' }, status: failure });
      const ct = req.headers['content-type'] ?? '';
      if (!/^application\/(x-ndjson|json)/.test(ct)) return json(res, 406, { error: `Content-Type header [${ct}] is not supported`, status: 406 });
      if (body.length > 0 && body[body.length - 1] !== 0x0a) return json(res, 400, illegal('The bulk request must be terminated by a newline [\\n]'));
      return json(res, 200, runBulk(body.toString('utf8'), bulk[1]));
    }
    state.otherRequests.push(`${req.method} ${url.pathname}`);
    const tpl = /^\/_index_template\/([^/]+)$/.exec(url.pathname);
    if (tpl && req.method === 'PUT') {
      state.templates.set(tpl[1]!, JSON.parse(body.toString('utf8')));
      return json(res, 200, { acknowledged: true });
    }
    if (req.method === 'GET' && url.pathname === '/') return json(res, 200, { name: 'test', cluster_name: 'procflow-test', version: { number: '8.15.0' }, tagline: 'You Know, for Search' });
    return json(res, 404, { error: { type: 'resource_not_found_exception', reason: `no handler for ${req.method} ${url.pathname}` }, status: 404 });
  };

  const runBulk = (text: string, defaultIndex: string | undefined) => {
    const started = Date.now();
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < lines.length; i++) {
      const action = JSON.parse(lines[i]!) as Record<string, { _index?: string; _id?: string }>;
      const op = Object.keys(action)[0]!;
      const meta = action[op]!;
      const index = meta._index ?? defaultIndex ?? '';
      const id = meta._id ?? `auto-${++seqNo}`;
      const source = op === 'delete' ? undefined : (JSON.parse(lines[++i] ?? '{}') as Record<string, unknown>);
      state.itemsReceived++;
      const key = `${index}/${id}`;
      const existing = state.docs.get(key);
      const ok = (result: string, status: number, version: number) => ({ [op]: { _index: index, _id: id, _version: version, result, _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: seqNo++, _primary_term: 1, status } });
      if (op !== 'delete' && state.itemRejectionsLeft > 0) {
        state.itemRejectionsLeft--;
        items.push({ [op]: { _index: index, _id: id, status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of primary operation' } } });
        continue;
      }
      if (op === 'delete') {
        if (!existing) items.push(ok('not_found', 404, 1));
        else {
          state.docs.delete(key);
          items.push(ok('deleted', 200, existing.version + 1));
        }
        continue;
      }
      if (op === 'update') {
        if (!existing) {
          items.push({ update: { _index: index, _id: id, status: 404, error: { type: 'document_missing_exception', reason: `[${id}]: document missing`, index_uuid: 'aAsFqTI0Tc2W0LCWgPNrOA', shard: '0', index } } });
          continue;
        }
        const merged = { ...existing.source, ...((source as { doc?: Record<string, unknown> }).doc ?? {}) };
        const err = parse(index, id, merged);
        if (err) {
          items.push({ update: { _index: index, _id: id, status: 400, error: err } });
          continue;
        }
        existing.source = merged;
        existing.version++;
        items.push(ok('updated', 200, existing.version));
        continue;
      }
      if (op === 'create' && existing) {
        items.push({ create: { _index: index, _id: id, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [${existing.version}])` } } });
        continue;
      }
      const err = parse(index, id, source!);
      if (err) {
        items.push({ [op]: { _index: index, _id: id, status: 400, error: err } });
        continue;
      }
      const version = (existing?.version ?? 0) + 1;
      state.docs.set(key, { index, id, version, source: source! });
      items.push(ok(existing ? 'updated' : 'created', existing ? 200 : 201, version));
    }
    state.bulkSizes.push(items.length);
    return { took: Date.now() - started, errors: items.some((it) => (Object.values(it)[0] as { error?: unknown }).error !== undefined), items };
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: Error) => json(res, 400, illegal(err.message)));
  };
  const server: Server = opts.tls ? createHttps({ key: opts.tls.key, cert: opts.tls.cert }, listener) : createHttp(listener);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  state.port = (server.address() as AddressInfo).port;
  state.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${state.port}`;
  return state;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function dynamicType(v: unknown): FieldType {
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'double';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'object') return 'object';
  return 'text';
}

/** Why `v` does not fit a field of `type`, or undefined. */
function fits(type: FieldType, v: unknown): string | undefined {
  switch (type) {
    case 'disabled':
      return undefined;
    case 'long':
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v)) ? undefined : `For input string: "${String(v)}"`;
    case 'double':
      return typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) ? undefined : `For input string: "${String(v)}"`;
    case 'ip':
      return typeof v === 'string' && isIP(v) !== 0 ? undefined : `'${String(v)}' is not an IP string literal.`;
    case 'date':
      return typeof v === 'number' || (typeof v === 'string' && !Number.isNaN(Date.parse(v))) ? undefined : `failed to parse date field [${String(v)}]`;
    case 'boolean':
      return typeof v === 'boolean' || v === 'true' || v === 'false' ? undefined : `Failed to parse value [${String(v)}] as only [true] or [false] are allowed.`;
    case 'object':
      return typeof v === 'object' ? undefined : `object mapping tried to parse field as object, but found a concrete value`;
    default:
      return typeof v === 'object' ? `failed to parse field of type [${type}]: an object` : undefined;
  }
}

function authorized(req: IncomingMessage, auth: EsTestServer['auth']): boolean {
  if (!auth.apiKey && auth.username === undefined) return true;
  const h = req.headers.authorization ?? '';
  if (auth.apiKey && h === `ApiKey ${auth.apiKey}`) return true;
  if (auth.username !== undefined && h === `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`) return true;
  return false;
}

function illegal(reason: string) {
  return { error: { root_cause: [{ type: 'illegal_argument_exception', reason }], type: 'illegal_argument_exception', reason }, status: 400 };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
