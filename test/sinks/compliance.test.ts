/** Every sink passes the compliance harness (compliance.ts) against its destination over real sockets. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../host/config/load.js';
import type { SinkConfig } from '../../host/config/settings.js';
import { idFromLine } from '../helpers/flow-records.js';
import { startCollector } from '../servers/collector.js';
import { startEsServer } from '../servers/elasticsearch.js';
import { startFluentd } from '../servers/fluentd.js';
import { RSYSLOGD, startRsyslog, type Rsyslog } from '../servers/rsyslog.js';
import { makePki } from '../helpers/tls.js';
import { complianceSuite } from './compliance.js';

/** A sink entry with its defaults filled, through the config validator. */
export const sinkConfig = (raw: Record<string, unknown>): SinkConfig => validateConfig({ sinks: [raw] }).sinks[0]!;

complianceSuite({
  name: 'file',
  spooled: false,
  async start() {
    const path = join(mkdtempSync(join(tmpdir(), 'procflow-file-')), 'flows.log');
    const lines = () => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : []);
    return {
      config: () => sinkConfig({ type: 'file', path }),
      received: () => new Set(lines().map((l) => idFromLine(JSON.parse(l)))),
      batchSizes: () => [],
      failNext() {},
      close: async () => {},
    };
  },
});

complianceSuite({
  name: 'stdout',
  spooled: false,
  async start() {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      out.push(Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
    return {
      config: () => sinkConfig({ type: 'stdout' }),
      received: () => new Set(out.join('').split('\n').filter((l) => l !== '').map((l) => idFromLine(JSON.parse(l)))),
      batchSizes: () => [],
      failNext() {},
      close: async () => {
        process.stdout.write = write;
      },
    };
  },
});

complianceSuite({
  name: 'elasticsearch',
  spooled: true,
  async start() {
    const es = await startEsServer();
    return {
      config: (common) => sinkConfig({ type: 'elasticsearch', url: es.url, ...common }),
      received: () => es.ids(),
      batchSizes: () => es.bulkSizes,
      failNext(n) {
        es.failNext = n === 0 ? [] : Array.from({ length: Number.isFinite(n) ? n : 1_000_000 }, (_, i) => (i % 2 ? 429 : 503));
      },
      close: () => es.close(),
    };
  },
});

complianceSuite({
  name: 'fluent-forward',
  spooled: true,
  async start() {
    const fd = await startFluentd({ sharedKey: 'k' });
    return {
      config: (common) => sinkConfig({ type: 'fluent-forward', host: '127.0.0.1', port: fd.port, sharedKey: 'k', ackTimeout: '300ms', ...common }),
      received: () => fd.ids(),
      batchSizes: () => fd.chunkSizes,
      failNext(n) {
        fd.dropNextChunks = n;
      },
      close: () => fd.close(),
    };
  },
});

complianceSuite({
  name: 'http',
  spooled: true,
  async start() {
    const col = await startCollector('tok');
    return {
      config: (common) => sinkConfig({ type: 'http', url: col.url, bearerToken: 'tok', ...common }),
      received: () => col.ids(),
      batchSizes: () => col.requests.map((r) => r.count),
      failNext(n) {
        col.failNext = n === 0 ? [] : Array.from({ length: Number.isFinite(n) ? n : 1_000_000 }, (_, i) => (i % 2 ? 429 : 500));
      },
      close: () => col.close(),
    };
  },
});

// syslog over TCP, against a real rsyslogd: a failure is rsyslog being down (connections refused),
// for about 200 ms per failure asked for, or until failNext(0).
if (RSYSLOGD || process.env.PROCFLOW_REQUIRE_KERNEL === '1') {
  complianceSuite({
    name: 'syslog',
    spooled: true,
    async start() {
      const pki = makePki();
      let rs: Rsyslog = await startRsyslog(pki);
      const ports = { udpPort: rs.udpPort, tcpPort: rs.tcpPort, tlsPort: rs.tlsPort };
      let restart: Promise<void> = Promise.resolve();
      const startIfDown = async () => {
        if (!rs.running()) rs = await startRsyslog(pki, ports);
      };
      return {
        config: (common) => sinkConfig({ type: 'syslog', host: '127.0.0.1', port: ports.tcpPort, transport: 'tcp', ...common }),
        received: () => new Set(rs.messages().map((m) => /id="([^"]+)"/.exec(m.sd)?.[1] ?? '?')),
        batchSizes: undefined, // syslog frames carry no batch boundary
        async failNext(n) {
          if (n === 0) {
            restart = restart.then(startIfDown);
            return restart;
          }
          restart = restart.then(() => rs.stop()).then(() => {
            if (Number.isFinite(n)) setTimeout(() => (restart = restart.then(startIfDown)), n * 200);
          });
          return restart;
        },
        close: async () => {
          await restart;
          await rs.stop();
        },
      };
    },
  });
}
