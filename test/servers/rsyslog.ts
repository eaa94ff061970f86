/**
 * A real rsyslogd (the Debian package), started by the tests on loopback
 * ports with its own config and work directory: UDP (imudp), TCP with
 * octet-counted framing (imtcp) and TLS (imtcp with the openssl stream
 * driver). Every message it parses is written as one JSON line (rsyslog's
 * own view of PRI, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID, SD and MSG),
 * which the tests read back.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/flow-records.js';
import { stablePort } from '../helpers/ports.js';
import type { TestPki } from '../helpers/tls.js';

const dirs = new Map<number, string>();

/** Where rsyslogd is installed by `apt-get install rsyslog rsyslog-openssl`. */
export const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));

/** One message as rsyslog parsed it. */
export interface SyslogMessage {
  pri: number;
  timestamp: string;
  hostname: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
}

/** A running rsyslogd. */
export interface Rsyslog {
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  /** Every message written so far (by this instance and earlier ones on the same output). */
  messages(): SyslogMessage[];
  running(): boolean;
  stop(): Promise<void>;
}

const canConnect = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect({ host: '127.0.0.1', port }, () => {
    s.destroy();
    resolve(true);
  });
  s.on('error', () => resolve(false));
});

/** APP-NAME of the readiness probes; `messages()` leaves them out. */
const PROBE_APP = 'procflow-probe';
let probes = 0;

/** Sends one octet-counted message over a TCP or TLS connection and closes it. */
function sendFramed(port: number, tls: boolean, msg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const frame = `${Buffer.byteLength(msg)} ${msg}`;
    const s = tls ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => s.end(frame, () => resolve())) : connect({ host: '127.0.0.1', port }, () => s.end(frame, () => resolve()));
    s.on('error', reject);
  });
}

/**
 * Starts rsyslogd (on the given ports, or free ones below the ephemeral
 * range, so a restart on the same ports finds them free); `pki` gives the TLS
 * listener its certificate. Ready when a probe sent to each listener is in
 * its output: a port picked free can still be taken by another test process
 * before rsyslog binds it, and then connections succeed but reach that
 * process (free ports are tried again, up to three times).
 */
export async function startRsyslog(pki: TestPki, ports?: { udpPort: number; tcpPort: number; tlsPort: number }): Promise<Rsyslog> {
  for (let attempt = 1; ; attempt++) {
    const rs = await startOnce(pki, ports);
    const id = `probe-${process.pid}-${++probes}`;
    const msg = (t: string) => `<14>1 2026-01-01T00:00:00Z probe ${PROBE_APP} - - [probe@32473 id="${id}-${t}"] readiness probe`;
    const seen = () => new Set(rs.raw().filter((m) => m.app === PROBE_APP).map((m) => /id="([^"]+)"/.exec(m.sd)?.[1]));
    const udp = createSocket('udp4');
    try {
      await sendFramed(rs.tcpPort, false, msg('tcp'));
      await sendFramed(rs.tlsPort, true, msg('tls'));
      // The listen check covers only the TCP ports, and a datagram that arrives before imudp has
      // bound is gone: the UDP probe is sent again every 200 ms until it shows up.
      let lastUdp = 0;
      const missing = () => ['tcp', 'tls', 'udp'].filter((t) => !seen().has(`${id}-${t}`));
      await waitFor(() => {
        rs.checkBound();
        const left = missing();
        if (left.includes('udp') && Date.now() - lastUdp >= 200) {
          lastUdp = Date.now();
          udp.send(msg('udp'), rs.udpPort, '127.0.0.1', () => {}); // a send error shows as the probe missing
        }
        return left.length === 0;
      }, `rsyslogd's output to hold a probe from each listener (ports ${rs.udpPort}/${rs.tcpPort}/${rs.tlsPort})`, 15_000).catch((err: Error) => {
        throw err.message.startsWith('timed out') ? new Error(`${err.message}; missing: ${missing().join(', ')}`) : err;
      });
      return rs;
    } catch (err) {
      await rs.stop();
      if (ports || attempt >= 3) throw err;
    } finally {
      udp.close();
    }
  }
}

/**
 * Messages in rsyslog's output file, parsed once each: every call reads only
 * the bytes added since the last (the tests poll this every 10 ms while
 * thousands of records arrive; reparsing the whole file each time took CPU
 * that rsyslogd needs on a loaded machine). Only complete lines: rsyslog may be in the
 * middle of writing the last one.
 */
function outputReader(path: string): () => SyslogMessage[] {
  const parsed: SyslogMessage[] = [];
  let offset = 0;
  return () => {
    if (!existsSync(path)) return parsed;
    const size = statSync(path).size;
    if (size <= offset) return parsed;
    const buf = Buffer.allocUnsafe(size - offset);
    const fd = openSync(path, 'r');
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, offset);
    } finally {
      closeSync(fd);
    }
    // Up to the last newline; the rest is read again next time (cut there, never inside a UTF-8 sequence).
    const end = buf.subarray(0, n).lastIndexOf(0x0a);
    if (end < 0) return parsed;
    offset += end + 1;
    for (const l of buf.toString('utf8', 0, end).split('\n')) parsed.push(JSON.parse(l) as SyslogMessage);
    return parsed;
  };
}

async function startOnce(pki: TestPki, ports?: { udpPort: number; tcpPort: number; tlsPort: number }): Promise<Rsyslog & { raw(): SyslogMessage[]; checkBound(): void }> {
  if (!RSYSLOGD) throw new Error('rsyslogd is not installed: apt-get install rsyslog rsyslog-openssl');
  // Restarted on the same ports, it appends to the same output: one directory per port set.
  const dir = ports ? (dirs.get(ports.tcpPort) ?? mkdtempSync(join(tmpdir(), 'procflow-rsyslog-'))) : mkdtempSync(join(tmpdir(), 'procflow-rsyslog-'));
  const { udpPort, tcpPort, tlsPort } = ports ?? { udpPort: await stablePort(), tcpPort: await stablePort(), tlsPort: await stablePort() };
  const out = join(dir, 'out.jsonl');
  const conf = `
global(workDirectory="${dir}" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="${pki.caPath}" DefaultNetstreamDriverCertFile="${pki.certPath}" DefaultNetstreamDriverKeyFile="${pki.keyPath}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" port="${udpPort}" address="127.0.0.1")
input(type="imtcp" port="${tcpPort}" address="127.0.0.1")
input(type="imtcp" port="${tlsPort}" address="127.0.0.1" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
template(name="jsonl" type="string" string="{\\"pri\\":%pri%,\\"timestamp\\":\\"%timereported:::date-rfc3339%\\",\\"hostname\\":\\"%hostname:::json%\\",\\"app\\":\\"%app-name:::json%\\",\\"procid\\":\\"%procid:::json%\\",\\"msgid\\":\\"%msgid:::json%\\",\\"sd\\":\\"%structured-data:::json%\\",\\"msg\\":\\"%msg:::json%\\"}\\n")
action(type="omfile" file="${out}" template="jsonl" flushOnTXEnd="on" asyncWriting="off")
`;
  dirs.set(tcpPort, dir);
  writeFileSync(join(dir, 'rsyslog.conf'), conf);
  execFileSync(RSYSLOGD, ['-N1', '-f', join(dir, 'rsyslog.conf')], { stdio: 'pipe' });
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // It runs on without a listener it could not bind, and another process may answer on that port.
  const checkBound = () => {
    if (/Could not create \w+ listener|Error while binding/.test(stderr)) throw new Error(`rsyslogd could not bind its ports (${udpPort}/${tcpPort}/${tlsPort}): ${stderr.trim()}`);
  };
  let up = false;
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${stderr}`);
    checkBound();
    void Promise.all([canConnect(tcpPort), canConnect(tlsPort)]).then(([a, b]) => (up = a && b));
    return up;
  }, 'rsyslogd to listen', 15_000);
  const raw = outputReader(out);
  return {
    udpPort, tcpPort, tlsPort, raw, checkBound,
    messages: () => raw().filter((m) => m.app !== PROBE_APP),
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
