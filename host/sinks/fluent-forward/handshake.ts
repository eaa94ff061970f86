/**
 * The shared-key handshake of Forward protocol v1: the server sends
 * `['HELO', {nonce, auth, keepalive}]`; the client answers
 * `['PING', self_hostname, shared_key_salt, sha512_hex(salt + self_hostname + nonce + shared_key), username, sha512_hex(auth + username + password)]`;
 * the server replies `['PONG', ok, reason, server_hostname, sha512_hex(salt + server_hostname + nonce + shared_key)]`,
 * which the client checks (the server knows the key too).
 */
import { createHash, randomBytes } from 'node:crypto';

/** Hex SHA-512 of the parts, concatenated. */
export function sha512Hex(...parts: (string | Buffer)[]): string {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Client side of one handshake. */
export class ClientHandshake {
  readonly salt = randomBytes(16).toString('hex');
  private nonce: string | Buffer = '';

  constructor(private readonly o: { selfHostname: string; sharedKey: string; username?: string | undefined; password?: string | undefined }) {}

  /** The PING answering a HELO message; throws when the message is no HELO. */
  ping(helo: unknown): unknown[] {
    if (!Array.isArray(helo) || helo[0] !== 'HELO' || typeof helo[1] !== 'object' || helo[1] === null) throw new Error(`expected HELO from the server, got ${JSON.stringify(helo)?.slice(0, 100)}`);
    const opts = helo[1] as { nonce?: string | Buffer; auth?: string | Buffer };
    this.nonce = opts.nonce ?? '';
    const auth = opts.auth ?? '';
    const digest = sha512Hex(this.salt, this.o.selfHostname, this.nonce, this.o.sharedKey);
    const userAuth = auth.length > 0 && this.o.username !== undefined;
    return ['PING', this.o.selfHostname, this.salt, digest, userAuth ? this.o.username : '', userAuth ? sha512Hex(auth, this.o.username!, this.o.password ?? '') : ''];
  }

  /** Checks the PONG: undefined when the server accepted us and proved it knows the key, else the reason. */
  checkPong(pong: unknown): string | undefined {
    if (!Array.isArray(pong) || pong[0] !== 'PONG') return `expected PONG from the server, got ${JSON.stringify(pong)?.slice(0, 100)}`;
    const [, ok, reason, serverHostname, digest] = pong as [string, boolean, string, string, string];
    if (!ok) return `the server refused the handshake: ${reason}`;
    if (digest !== sha512Hex(this.salt, serverHostname, this.nonce, this.o.sharedKey)) return 'the server\'s PONG digest does not match: it does not know the shared key';
    return undefined;
  }
}
