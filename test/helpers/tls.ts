/** A throwaway CA and a server certificate for 127.0.0.1 / localhost, made with the openssl CLI (test TLS). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files and their contents. */
export interface TestPki {
  dir: string;
  caPath: string;
  ca: Buffer;
  key: Buffer;
  cert: Buffer;
  keyPath: string;
  certPath: string;
}

/** Creates the CA and the server certificate (EC P-256: fast to generate). */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'procflow-pki-'));
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=procflow test CA');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n');
  ssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  return {
    dir, caPath: p('ca.pem'), ca: readFileSync(p('ca.pem')), key: readFileSync(p('server.key')), cert: readFileSync(p('server.pem')),
    keyPath: p('server.key'), certPath: p('server.pem'),
  };
}
