/**
 * The fluentd stand-in, validated with an independent client: the official
 * Fluent logger for Node (fluent-logger) speaking forward with
 * requireAckResponse and a shared key, in Message, PackedForward and
 * CompressedPackedForward modes; a wrong key is refused.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/flow-records.js';
import { startFluentd, type FluentdTestServer } from './fluentd.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const logger = require('fluent-logger') as {
  createFluentSender(tag: string, opts: Record<string, unknown>): {
    emit(label: string, data: Record<string, unknown>, cb?: (err?: Error) => void): void;
    on(ev: string, cb: (err: Error) => void): void;
    end(): void;
  };
};

let fd: FluentdTestServer;
beforeAll(async () => {
  fd = await startFluentd({ sharedKey: 'secret-key' });
});
afterAll(() => fd.close());

function sender(eventMode: string, sharedKey = 'secret-key') {
  return logger.createFluentSender('app', {
    host: '127.0.0.1', port: fd.port, requireAckResponse: true, ackResponseTimeout: 10_000, eventMode, flushInterval: 5,
    security: { clientHostname: 'client-1', sharedKey }, internalLogger: { info() {}, error() {} }, reconnectInterval: 60_000,
  });
}

const emit = (s: ReturnType<typeof sender>, label: string, data: Record<string, unknown>) =>
  new Promise<void>((resolve, reject) => s.emit(label, data, (err) => (err ? reject(err) : resolve())));

describe('fluentd stand-in against fluent-logger (forward, ack, shared key)', () => {
  for (const mode of ['Message', 'PackedForward', 'CompressedPackedForward']) {
    it(`receives and acks ${mode} events after the handshake`, async () => {
      const s = sender(mode);
      await Promise.all([emit(s, 'flows', { id: `${mode}-1`, n: 1 }), emit(s, 'flows', { id: `${mode}-2`, n: 2 })]);
      s.end();
      const got = fd.events.filter((e) => String(e.record.id).startsWith(`${mode}-`));
      expect(got.map((e) => [e.tag, e.record.n, e.mode])).toEqual([['app.flows', 1, mode], ['app.flows', 2, mode]]);
    });
  }

  it('refuses a client with the wrong shared key (PONG false, no events stored)', async () => {
    const before = fd.events.length;
    const s = sender('Message', 'wrong');
    const errors: Error[] = [];
    s.on('error', (e) => errors.push(e));
    s.emit('flows', { id: 'never' });
    await waitFor(() => fd.refusals.length > 0, 'a refused handshake');
    expect(fd.refusals).toContain('shared_key mismatch');
    s.end();
    expect(fd.events.length).toBe(before);
  });
});
