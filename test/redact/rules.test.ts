/** The redaction rules (host/redact/core/rules.ts through the host's redactor): only the secret is masked. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedactor, redactArgv, redactionCounts, REDACTED as R } from '../../host/redact/redactor.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const cases: [string, string[], string[]][] = [
  ['--password=x', ['app', '--password=hunter2', '-v'], ['app', `--password=${R}`, '-v']],
  ['--password x', ['app', '--password', 'hunter2', 'next'], ['app', '--password', R, 'next']],
  ['--token / --api-key / --client-secret', ['t', '--token', 'abc', '--api-key=k1', '--client-secret', 's'], ['t', '--token', R, `--api-key=${R}`, '--client-secret', R]],
  ['mysql -pSECRET', ['/usr/bin/mysql', '-uroot', '-pS3cret', 'db'], ['/usr/bin/mysql', '-uroot', `-p${R}`, 'db']],
  ['mysql -p prompts', ['mysql', '-p', 'shop'], ['mysql', '-p', 'shop']],
  ['mysql --password switch', ['mysql', '--password', 'shop'], ['mysql', '--password', 'shop']],
  ['-p is a port elsewhere', ['ssh', '-p2222', 'host'], ['ssh', '-p2222', 'host']],
  ['redis-cli -p port, -a password', ['redis-cli', '-h', 'cache', '-p', '6379', '-a', 'pw'], ['redis-cli', '-h', 'cache', '-p', '6379', '-a', R]],
  ['docker run -p is a port', ['docker', 'run', '-p', '8080:80', 'nginx'], ['docker', 'run', '-p', '8080:80', 'nginx']],
  ['docker login -p', ['docker', 'login', '-u', 'bob', '-p', 'pw', 'reg.io'], ['docker', 'login', '-u', 'bob', '-p', R, 'reg.io']],
  ['--password-stdin is a switch', ['docker', 'login', '--password-stdin', '-u', 'bob'], ['docker', 'login', '--password-stdin', '-u', 'bob']],
  ['-u user:pass', ['curl', '-u', 'bob:pw', 'https://h'], ['curl', '-u', `bob:${R}`, 'https://h']],
  ['curl -u user only', ['curl', '-u', 'bob', 'https://h'], ['curl', '-u', 'bob', 'https://h']],
  ['KEY=value', ['env', 'PGPASSWORD=pw', 'DB_TOKEN=t', 'HOME=/root', 'psql'], ['env', `PGPASSWORD=${R}`, `DB_TOKEN=${R}`, 'HOME=/root', 'psql']],
  ['JVM property', ['java', '-Djavax.net.ssl.keyStorePassword=pw', '-Dfoo=bar'], ['java', `-Djavax.net.ssl.keyStorePassword=${R}`, '-Dfoo=bar']],
  ['URL userinfo', ['git', 'clone', 'https://user:tok@github.com/o/r'], ['git', 'clone', `https://user:${R}@github.com/o/r`]],
  ['URL query', ['curl', 'https://api.example.com/v1?access_token=abc&page=2'], ['curl', `https://api.example.com/v1?access_token=${R}&page=2`]],
  ['auth header', ['curl', '-H', 'Authorization: Bearer abc.def'], ['curl', '-H', `Authorization: Bearer ${R}`]],
  ['api key header', ['curl', '--header=X-Api-Key: k123'], ['curl', `--header=X-Api-Key: ${R}`]],
  ['AWS key id', ['aws', 'AKIAABCDEFGHIJKLMNOP'], ['aws', R]],
  ['JWT inside a word', ['app', `--bearer=${JWT}`], ['app', `--bearer=${R}`]],
  ['--password-file keeps the path', ['app', '--password-file', '/etc/app/pw', '--token-file=/t'], ['app', '--password-file', '/etc/app/pw', '--token-file=/t']],
  ['sh -c string', ['/bin/sh', '-c', 'mysql --password=pw db'], ['/bin/sh', '-c', `mysql --password=${R} db`]],
  ['bash -c with quotes', ['bash', '-c', `curl -s -H 'Authorization: Bearer xyz' https://a:b@h/x && PGPASSWORD=p psql -h db`], ['bash', '-c', `curl -s -H 'Authorization: ${'Bearer'} ${R}' https://a:${R}@h/x && PGPASSWORD=${R} psql -h db`]],
  ['sh -c mysql -p', ['sh', '-c', 'mysql -uroot -ps3cr3t shop'], ['sh', '-c', `mysql -uroot -p${R} shop`]],
  ['PEM block', ['app', '--key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----'], ['app', '--key', `-----BEGIN RSA PRIVATE KEY-----${R}-----END RSA PRIVATE KEY-----`]],
  ['sqlplus', ['sqlplus', 'scott/tiger@orcl'], ['sqlplus', `scott/${R}@orcl`]],
  ['aws configure set', ['aws', 'configure', 'set', 'aws_secret_access_key', 'abc/def'], ['aws', 'configure', 'set', 'aws_secret_access_key', R]],
  ['openssl pass:', ['openssl', 'rsa', '-passin', 'pass:hunter2', '-passout', 'file:/k'], ['openssl', 'rsa', '-passin', `pass:${R}`, '-passout', 'file:/k']],
  ['conninfo string', ['psql', 'host=db user=app password=pw dbname=x'], ['psql', `host=db user=app password=${R} dbname=x`]],
  ['grep password is not a secret', ['grep', '-r', 'password', '/etc'], ['grep', '-r', 'password', '/etc']],
];

describe('redaction rules', () => {
  it.each(cases)('%s', (_name, argv, want) => {
    expect(redactArgv(argv).argv).toEqual(want);
  });

  it('counts what it masked, by rule, and leaves the input untouched', () => {
    const input = ['app', '--password=a', '--token', 'b', 'https://u:p@h'];
    const r = createRedactor();
    const out = r.redactList('/usr/bin/app', input.slice(1));
    expect(out).toEqual([`--password=${R}`, '--token', R, `https://u:${R}@h`]);
    expect(redactionCounts(r)).toEqual({ flag: 2, 'url-userinfo': 1 });
    expect(r.takeSummary()).toBe('{"flag":2,"url-userinfo":1}');
    expect(r.takeSummary()).toBe('');
    expect(input).toEqual(['app', '--password=a', '--token', 'b', 'https://u:p@h']);
  });

  it('hash mode: HMAC-SHA256 with the installation key, first 16 hex digits; equal secrets correlate', () => {
    const key = Buffer.alloc(32, 7);
    const r = createRedactor({ mode: 'hash', hmacKey: key });
    const tag = `[HMAC:${createHmac('sha256', key).update('hunter2').digest('hex').slice(0, 16)}]`;
    expect(r.redactList('app', ['--password=hunter2', '--token', 'hunter2'])).toEqual([`--password=${tag}`, '--token', tag]);
  });

  it('drop-args mode: a list with a secret becomes [replacement]; a list without stays', () => {
    const r = createRedactor({ mode: 'drop-args' });
    expect(r.redactList('app', ['--password=x', 'a'])).toEqual([R]);
    const clean = ['-v', 'a'];
    expect(r.redactList('app', clean)).toBe(clean);
  });

  it('a custom replacement', () => {
    expect(createRedactor({ replacement: '***' }).redactList('curl', ['-u', 'a:b'])).toEqual(['-u', 'a:***']);
  });
});
