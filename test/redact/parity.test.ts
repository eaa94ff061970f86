/**
 * The redact-args plugin (AssemblyScript, through the real PluginChain) and the
 * host's redactor give identical output on both corpora, in every mode; the
 * plugin's per-batch counts reach the chain's counters and its summary lines
 * are not logged; its own SHA-256/HMAC agrees with node:crypto.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import { PluginChain } from '../../host/plugins/chain.js';
import { REDACTED as R, redactFlows, redactionCounts, redactorFromConfig } from '../../host/redact/redactor.js';
import { CACHE_DIR, entry, flow } from '../plugins/helpers.js';
import { exeOf, expand, readCorpus } from './corpus.js';

let chain: PluginChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

/** A debug-level logger whose lines the test can read. */
function capturingLog() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { log: pino({ level: 'debug' }, stream), lines };
}

/** One flow per corpus line (secrets freshly planted), plus flows holding several lists. */
function corpusFlows(): FlowRecord[] {
  const argvs = [...readCorpus('secrets').map((c) => expand(c).argv), ...readCorpus('ordinary').map((c) => c.words)];
  const out = argvs.map((argv, i) => flow(i, { process_name: exeOf(argv), process_args: [argv.slice(1)] }));
  out.push(flow(argvs.length, { process_name: '/usr/bin/curl', process_args: [['-u', 'a:b'], ['-s', 'https://x'], []] }));
  return out;
}

async function runBoth(config: Record<string, string>, flows: FlowRecord[]) {
  const { log, lines } = capturingLog();
  chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [await entry('builtin/redact-args', { config })] }, { log });
  const got = await chain.process(flows);
  const ts = redactorFromConfig(config);
  const want = redactFlows(flows, ts);
  return { got: got.flows, want, ts, lines, chain };
}

describe('redact-args plugin ≡ host redactor', () => {
  it.each([
    ['mask', {}],
    ['custom replacement', { replacement: '<hidden>' }],
    ['hash', { mode: 'hash', hmacKey: randomBytes(32).toString('hex') }],
    ['drop-args', { mode: 'drop-args' }],
  ])('%s: identical argument lists on both corpora, identical counts', async (_name, config: Record<string, string>) => {
    const flows = corpusFlows();
    const { got, want, ts, lines } = await runBoth(config, flows);
    expect(got.map((f) => f.process_args)).toEqual(want.map((f) => f.process_args));
    const counts = redactionCounts(ts);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(readCorpus('secrets').length);
    await vi.waitFor(() => expect(chain!.stats()['redact-args'].redactions).toEqual(counts), { timeout: 5000 });
    expect(lines.some((l) => l.includes('redact-summary'))).toBe(false); // counted, not logged
    if (config.hmacKey) expect(lines.some((l) => l.includes(config.hmacKey))).toBe(false); // the key is never logged
  });

  it.each([
    ['mask', {}],
    ['hash', { mode: 'hash', hmacKey: randomBytes(32).toString('hex') }],
    ['drop-args', { mode: 'drop-args' }],
  ])('%s: flows of one process repeating their lists (redacted once per batch by the plugin) — same lists, same counts', async (_name, config: Record<string, string>) => {
    const lines = readCorpus('secrets').slice(0, 40).map((c) => expand(c).argv);
    const flows: FlowRecord[] = [];
    for (let rep = 0; rep < 4; rep++) {
      lines.forEach((argv, k) => flows.push(flow(rep * 100 + k, { process_name: exeOf(argv), process_args: [argv.slice(1)] })));
    }
    // The same lists under another executable are another key (`-p` means a password only for some tools).
    flows.push(flow(900, { process_name: '/usr/bin/mysql', process_args: [['-u', 'root', '-pS3cretpass']] }));
    flows.push(flow(901, { process_name: '/usr/bin/redis-cli', process_args: [['-u', 'root', '-pS3cretpass']] }));
    flows.push(flow(902, { process_name: '/usr/bin/mysql', process_args: [['-u', 'root', '-pS3cretpass']] }));
    const { got, want, ts } = await runBoth(config, flows);
    expect(got.map((f) => f.process_args)).toEqual(want.map((f) => f.process_args));
    const byId = (i: number) => JSON.stringify(got.find((f) => f.id === `flow-${i}`)!.process_args);
    expect(byId(900)).not.toContain('S3cretpass');
    expect(byId(902)).not.toContain('S3cretpass');
    expect(byId(901)).toContain('-pS3cretpass'); // redis-cli's -p is its port: not masked, although the bytes of the lists are equal
    await vi.waitFor(() => expect(chain!.stats()['redact-args'].redactions).toEqual(redactionCounts(ts)), { timeout: 5000 });
  });

  it('hash mode: the plugin\'s HMAC-SHA256 matches node:crypto at every padding boundary and with non-ASCII text', async () => {
    const secrets: string[] = [];
    for (let n = 1; n <= 140; n++) secrets.push('s'.repeat(n)); // 55/56/63/64/119/120-byte messages cross SHA-256 block edges
    secrets.push('pässwörd-日本語-🔑', 'x'.repeat(1000));
    const flows = secrets.map((s, i) => flow(i, { process_name: '/usr/bin/app', process_args: [[`--password=${s}`]] }));
    const key = randomBytes(32).toString('hex');
    const { got, want } = await runBoth({ mode: 'hash', hmacKey: key }, flows);
    expect(got.map((f) => f.process_args)).toEqual(want.map((f) => f.process_args));
    expect(got[0].process_args[0][0]).toMatch(/^--password=\[HMAC:[0-9a-f]{16}\]$/);
  });

  it('the in-place fast paths: non-ASCII names, settings, words without = : or space, shell quoting, long and non-ASCII text', async () => {
    const long = `--comment=${'lorem ipsum dolor sit amet '.repeat(40)}`;
    const lists: [string, string[], string[]][] = [
      // a non-ASCII name is normalised by normName (ß → SS), not compared in place
      ['/usr/bin/app', ['--paßword', 'hunter2', '--db-pässword', 'x1'], ['--paßword', R, '--db-pässword', 'x1']],
      ['/usr/bin/app', ['--password=NO', '--password=Nö', '--colour=Yes', '--password='], ['--password=NO', `--password=${R}`, '--colour=Yes', '--password=']],
      ['/usr/bin/curl', ['https://h/p?pässwörd=abc&access_token=xyz&x=1'], [`https://h/p?pässwörd=abc&access_token=${R}&x=1`]],
      // token shapes only at a word start
      ['/usr/bin/app', ['fooAKIAABCDEFGHIJKLMNOP', '(AKIAABCDEFGHIJKLMNOP)', 'plain-words_only.txt'], ['fooAKIAABCDEFGHIJKLMNOP', `(${R})`, 'plain-words_only.txt']],
      ['/bin/sh', ['-c', `mysql -p'S3cr\\"et' db; echo "done\\$HOME" && curl -H "Authorization: Bearer t0k" https://u:p@h/x`], ['-c', `mysql -p'${R}' db; echo "done\\$HOME" && curl -H "Authorization: Bearer ${R}" https://u:${R}@h/x`]],
      // ASCII over 8 bytes, non-ASCII after the eighth byte (the SDK's ASCII fast paths and their fallback)
      ['/usr/bin/app', ['--x=abcdefgh€ijklmnop', '--password=abcdefghijklmnopqr€st', long, 'ünïcödé'], ['--x=abcdefgh€ijklmnop', `--password=${R}`, long, 'ünïcödé']],
    ];
    const flows = lists.map(([exe, args], i) => flow(i, { process_name: exe, process_args: [args] }));
    const { got, want } = await runBoth({}, flows);
    expect(got.map((f) => f.process_args)).toEqual(want.map((f) => f.process_args));
    expect(got.map((f) => f.process_args[0])).toEqual(lists.map(([, , out]) => out));
  });

  it('a policy: identical results in both', async () => {
    const policy = JSON.stringify({
      flags: ['--db-pass', '-k'],
      keys: ['MY_CONN'],
      patterns: ['*secret://{secret}'],
      rules: [
        { match: '/opt/app/bin/*', positions: [2, -1] },
        { match: 'mc', positions: [6] },
        { match: 'ls', allow: true },
        { match: '/usr/bin/trusted', allow: true, tokenShapes: false },
        { match: 'big*', argsCap: { count: 3, length: 8 } },
      ],
    });
    const gh = `ghp_${'a1B2'.repeat(9)}`;
    const flows = [
      flow(0, { process_name: '/opt/app/bin/run', process_args: [['user', 'pw-one', '--v', 'last-secret']] }),
      flow(1, { process_name: '/usr/bin/mc', process_args: [['alias', 'set', 'minio', 'http://minio:9000', 'minioadmin', 'SECRETKEY1234']] }),
      flow(2, { process_name: '/usr/bin/ls', process_args: [['--password=kept', gh]] }),
      flow(3, { process_name: '/usr/bin/trusted', process_args: [['--password=kept', gh]] }),
      flow(4, { process_name: '/usr/bin/bigtool', process_args: [['a', 'abcdefghijkl', 'c', 'd', 'e']] }),
      flow(5, { process_name: '/usr/bin/tool', process_args: [['--db-pass', 'x1', '-kSECRET', 'MY_CONN=abc', 'url=secret://zzz', '--password=pw']] }),
    ];
    const { got, want } = await runBoth({ policy }, flows);
    expect(got.map((f) => f.process_args)).toEqual(want.map((f) => f.process_args));
    expect(got.map((f) => f.process_args[0])).toEqual([
      ['user', '[REDACTED]', '--v', '[REDACTED]'],
      ['alias', 'set', 'minio', 'http://minio:9000', 'minioadmin', '[REDACTED]'],
      ['--password=kept', '[REDACTED]'],
      ['--password=kept', gh],
      ['a', 'abcdefgh', 'c'],
      ['--db-pass', '[REDACTED]', '-k[REDACTED]', 'MY_CONN=[REDACTED]', 'url=secret://[REDACTED]', '--password=[REDACTED]'],
    ]);
  });
});
