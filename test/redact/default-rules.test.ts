/** The default argument redaction masks only the secret and keeps the rest readable. */
import { describe, expect, it } from 'vitest';
import { redactArgv, REDACTED as R } from '../../host/redact/default-rules.js';

const cases: [string, string[], string[]][] = [
  ['--password=x', ['app', '--password=hunter2', '-v'], ['app', `--password=${R}`, '-v']],
  ['--password x', ['app', '--password', 'hunter2', 'next'], ['app', '--password', R, 'next']],
  ['--token / --api-key / --client-secret', ['t', '--token', 'abc', '--api-key=k1', '--client-secret', 's'], ['t', '--token', R, `--api-key=${R}`, '--client-secret', R]],
  ['mysql -pSECRET', ['/usr/bin/mysql', '-uroot', '-pS3cret', 'db'], ['/usr/bin/mysql', '-uroot', `-p${R}`, 'db']],
  ['-p is a port elsewhere', ['ssh', '-p2222', 'host'], ['ssh', '-p2222', 'host']],
  ['-u user:pass', ['curl', '-u', 'bob:pw', 'https://h'], ['curl', '-u', `bob:${R}`, 'https://h']],
  ['KEY=value', ['env', 'PGPASSWORD=pw', 'DB_TOKEN=t', 'HOME=/root', 'psql'], ['env', `PGPASSWORD=${R}`, `DB_TOKEN=${R}`, 'HOME=/root', 'psql']],
  ['JVM property', ['java', '-Djavax.net.ssl.keyStorePassword=pw', '-Dfoo=bar'], ['java', `-Djavax.net.ssl.keyStorePassword=${R}`, '-Dfoo=bar']],
  ['URL userinfo', ['git', 'clone', 'https://user:tok@github.com/o/r'], ['git', 'clone', `https://user:${R}@github.com/o/r`]],
  ['auth header', ['curl', '-H', 'Authorization: Bearer abc.def'], ['curl', '-H', `Authorization: Bearer ${R}`]],
  ['AWS key id', ['aws', 'AKIAABCDEFGHIJKLMNOP'], ['aws', R]],
  ['--password-file keeps the path', ['app', '--password-file', '/etc/app/pw'], ['app', '--password-file', '/etc/app/pw']],
  ['sh -c string', ['/bin/sh', '-c', 'mysql --password=pw db'], ['/bin/sh', '-c', `mysql --password=${R} db`]],
];

describe('default redaction', () => {
  it.each(cases)('%s', (_name, argv, want) => {
    const { argv: got } = redactArgv(argv);
    expect(got).toEqual(want);
  });
  it('counts what it masked and leaves the input untouched', () => {
    const input = ['app', '--password=a', '--token', 'b'];
    const r = redactArgv(input);
    expect(r.masked).toBe(2);
    expect(input).toEqual(['app', '--password=a', '--token', 'b']);
  });
});
