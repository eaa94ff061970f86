/**
 * The rsyslogd harness itself: it starts on ports below the kernel's
 * ephemeral range, restarts on the same ports with every earlier message
 * still readable, and when a port it must reuse is held by another process it
 * fails at once naming the ports, instead of running without that listener
 * while the other process swallows what the tests send (a CI run timed out
 * that way).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ephemeralLow } from '../helpers/ports.js';
import { makePki } from '../helpers/tls.js';
import { RSYSLOGD, startRsyslog, type Rsyslog } from './rsyslog.js';

const required = process.env.PROCFLOW_REQUIRE_KERNEL === '1';

describe.skipIf(!RSYSLOGD && !required)('rsyslogd harness (skipped: rsyslogd is not installed; apt-get install rsyslog rsyslog-openssl)', () => {
  const pki = makePki();
  const running: Rsyslog[] = [];
  afterAll(async () => {
    for (const rs of running) await rs.stop();
  });

  it('picks ports below the ephemeral range and restarts on them', async () => {
    const rs = await startRsyslog(pki);
    running.push(rs);
    for (const p of [rs.udpPort, rs.tcpPort, rs.tlsPort]) expect(p).toBeLessThan(ephemeralLow());
    await rs.stop();
    const again = await startRsyslog(pki, { udpPort: rs.udpPort, tcpPort: rs.tcpPort, tlsPort: rs.tlsPort });
    running.push(again);
    expect(again.running()).toBe(true);
  });

  it('refuses a restart on a port another process took, naming the ports', async () => {
    const rs = await startRsyslog(pki);
    running.push(rs);
    await rs.stop();
    const squatter: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => squatter.listen(rs.tcpPort, '127.0.0.1', () => r()));
    try {
      await expect(startRsyslog(pki, { udpPort: rs.udpPort, tcpPort: rs.tcpPort, tlsPort: rs.tlsPort }))
        .rejects.toThrow(new RegExp(`rsyslogd could not bind its ports \\(${rs.udpPort}/${rs.tcpPort}/${rs.tlsPort}\\)`));
    } finally {
      squatter.close();
    }
  });
});
