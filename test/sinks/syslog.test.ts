/**
 * The syslog sink against a real rsyslogd started by the test (UDP, TCP with
 * octet counting, TLS): rsyslog parses every RFC 5424 field the sink sets,
 * JSON and CEF bodies arrive whole. Without rsyslogd installed the suite is
 * skipped, except in CI (PROCFLOW_REQUIRE_KERNEL=1, set by .ci/run, which
 * installs it), where that is a failure.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../host/config/load.js';
import { renderFlowLog } from '../../host/flows/record.js';
import { createSink } from '../../host/sinks/index.js';
import { cef } from '../../host/sinks/syslog/encoder.js';
import { flowRecords, waitFor } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';
import { makePki, type TestPki } from '../helpers/tls.js';
import { RSYSLOGD, startRsyslog, type Rsyslog, type SyslogMessage } from '../servers/rsyslog.js';

const required = process.env.PROCFLOW_REQUIRE_KERNEL === '1';
if (!RSYSLOGD && required) throw new Error('rsyslogd is required in CI: apt-get install rsyslog rsyslog-openssl');
const suite = RSYSLOGD ? describe : describe.skip;
if (!RSYSLOGD) console.warn('syslog sink tests skipped: rsyslogd is not installed (apt-get install rsyslog rsyslog-openssl)');

const syslog = (raw: Record<string, unknown>) => validateConfig({ sinks: [{ type: 'syslog', host: '127.0.0.1', hostname: 'node-1', retryInitial: '10ms', retryMax: '50ms', ...raw }] }).sinks[0]!;
const dataDir = () => mkdtempSync(join(tmpdir(), 'procflow-syslog-'));
const body = (m: SyslogMessage) => m.msg.replace(/^\uFEFF/, '');

suite('syslog sink against rsyslogd', () => {
  let rs: Rsyslog;
  let pki: TestPki;
  beforeAll(async () => {
    pki = makePki();
    rs = await startRsyslog(pki);
  });
  afterAll(() => rs?.stop());

  const byId = (prefix: string) => rs.messages().filter((m) => m.sd.includes(`id="${prefix}-`));

  for (const transport of ['tcp', 'tls', 'udp'] as const) {
    it(`${transport}: every RFC 5424 field as rsyslog parses it, JSON body = flows.log document + id`, async () => {
      const port = transport === 'udp' ? rs.udpPort : transport === 'tcp' ? rs.tcpPort : rs.tlsPort;
      const sink = createSink(syslog({ transport, port, facility: 'local3', severity: 'notice', ...(transport === 'tls' ? { tls: { ca: pki.caPath } } : {}) }), 0, { dataDir: dataDir(), log: testLog });
      const recs = flowRecords(30, `sys${transport}`);
      await sink.write(recs);
      expect(await sink.close()).toEqual({ remaining: 0, flushed: true });
      await waitFor(() => byId(`sys${transport}`).length === 30, `30 messages over ${transport} in rsyslog's output`);
      const got = byId(`sys${transport}`);
      const m = got[0]!;
      expect(m).toMatchObject({ pri: 19 * 8 + 5, hostname: 'node-1', app: 'procflow', procid: String(process.pid), msgid: 'flow', sd: `[procflow@32473 id="sys${transport}-0"]` });
      expect(new Date(m.timestamp).getTime()).toBe(recs[0]!.end_time * 1000);
      expect(got.map((g) => JSON.parse(body(g)))).toEqual(recs.map((r) => JSON.parse(JSON.stringify({ ...renderFlowLog(r), id: r.id }))));
    });
  }

  it('cef: the CEF event arrives whole, with the process in sproc/spid', async () => {
    const sink = createSink(syslog({ transport: 'tcp', port: rs.tcpPort, format: 'cef' }), 0, { dataDir: dataDir(), log: testLog });
    const recs = flowRecords(4, 'cef');
    await sink.write(recs);
    await sink.close();
    await waitFor(() => byId('cef').length === 4, 'the CEF messages');
    const got = byId('cef').map(body);
    expect(got).toEqual(recs.map(cef));
    expect(got[0]).toMatch(/^CEF:0\|procflow\|procflow\|0\.1\.0\|flow\|Network flow with process\|1\|rt=\d+ /);
    expect(got[0]).toContain('sproc=/usr/bin/curl spid=4000 ');
    expect(got[0]).toContain('cs1=["-s https://example.com/cef/0 --header X: \\\\"quoted\\\\" ü"]'); // JSON's \" with CEF's \ escaped
  });

  it('tcp: records written while rsyslog is down are delivered once it is back on its port (spool + retry)', async () => {
    const ports = { udpPort: rs.udpPort, tcpPort: rs.tcpPort, tlsPort: rs.tlsPort };
    await rs.stop();
    const sink = createSink(syslog({ transport: 'tcp', port: ports.tcpPort }), 0, { dataDir: dataDir(), log: testLog });
    const recs = flowRecords(10, 'down');
    await sink.write(recs);
    await waitFor(() => sink.metrics().errors >= 2, 'refused connections');
    rs = await startRsyslog(pki, ports);
    await waitFor(() => byId('down').length === 10, 'the queued records once rsyslog is back');
    expect(await sink.close()).toEqual({ remaining: 0, flushed: true });
  });
});
