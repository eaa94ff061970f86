// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the redactor's hash mode:
// the plugin has no crypto import, so it computes them itself. Tested against
// node:crypto in test/redact/parity.test.ts.

// Round constants, computed per call into a local array (module-level heap objects
// do not survive the plugin's arena reset).
function roundConstants(): StaticArray<u32> {
  const k = new StaticArray<u32>(64);
  const hex = "428a2f9871374491b5c0fbcfe9b5dba53956c25b59f111f1923f82a4ab1c5ed5d807aa9812835b01243185be550c7dc372be5d7480deb1fe9bdc06a7c19bf174e49b69c1efbe47860fc19dc6240ca1cc2de92c6f4a7484aa5cb0a9dc76f988da983e5152a831c66db00327c8bf597fc7c6e00bf3d5a7914706ca63511429296727b70a852e1b21384d2c6dfc53380d13650a7354766a0abb81c2c92e92722c85a2bfe8a1a81a664bc24b8b70c76c51a3d192e819d6990624f40e3585106aa07019a4c1161e376c082748774c34b0bcb5391c0cb34ed8aa4a5b9cca4f682e6ff3748f82ee78a5636f84c878148cc7020890befffaa4506cebbef9a3f7c67178f2";
  for (let i = 0; i < 64; i++) {
    let v: u32 = 0;
    for (let j = 0; j < 8; j++) {
      const c = hex.charCodeAt(i * 8 + j);
      v = (v << 4) | <u32>(c <= 57 ? c - 48 : c - 87);
    }
    unchecked(k[i] = v);
  }
  return k;
}

@inline function rotr(x: u32, n: u32): u32 {
  return (x >>> n) | (x << (32 - n));
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  const K = roundConstants();
  const h = new StaticArray<u32>(8);
  h[0] = 0x6a09e667; h[1] = 0xbb67ae85; h[2] = 0x3c6ef372; h[3] = 0xa54ff53a;
  h[4] = 0x510e527f; h[5] = 0x9b05688c; h[6] = 0x1f83d9ab; h[7] = 0x5be0cd19;
  const len = data.length;
  const total = ((len + 9 + 63) >> 6) << 6;
  const msg = new Uint8Array(total);
  msg.set(data);
  msg[len] = 0x80;
  const bits: u64 = <u64>len * 8;
  for (let i = 0; i < 8; i++) msg[total - 1 - i] = <u8>(bits >> (<u64>i * 8));
  const w = new StaticArray<u32>(64);
  for (let off = 0; off < total; off += 64) {
    for (let t = 0; t < 16; t++) {
      const p = off + t * 4;
      unchecked(w[t] = (<u32>msg[p] << 24) | (<u32>msg[p + 1] << 16) | (<u32>msg[p + 2] << 8) | <u32>msg[p + 3]);
    }
    for (let t = 16; t < 64; t++) {
      const w15 = unchecked(w[t - 15]);
      const w2 = unchecked(w[t - 2]);
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      unchecked(w[t] = unchecked(w[t - 16]) + s0 + unchecked(w[t - 7]) + s1);
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = hh + S1 + ch + unchecked(K[t]) + unchecked(w[t]);
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = S0 + maj;
      hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = h[i];
    out[i * 4] = <u8>(v >>> 24); out[i * 4 + 1] = <u8>(v >>> 16); out[i * 4 + 2] = <u8>(v >>> 8); out[i * 4 + 3] = <u8>v;
  }
  return out;
}

/** HMAC-SHA256(key, data). */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  let k = key.length > 64 ? sha256(key) : key;
  const ipad = new Uint8Array(64 + data.length);
  const opad = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    const b: u8 = i < k.length ? k[i] : 0;
    ipad[i] = b ^ 0x36;
    opad[i] = b ^ 0x5c;
  }
  ipad.set(data, 64);
  opad.set(sha256(ipad), 64);
  return sha256(opad);
}

/** Lower-case hex of the first `n` bytes. */
export function hex(bytes: Uint8Array, n: i32): string {
  const digits = "0123456789abcdef";
  let out = "";
  for (let i = 0; i < n && i < bytes.length; i++) out += digits.charAt(bytes[i] >> 4) + digits.charAt(bytes[i] & 15);
  return out;
}

/** Bytes of a hex string, or null when it is not hex of even length. */
export function unhex(s: string): Uint8Array | null {
  if (s.length == 0 || (s.length & 1) != 0) return null;
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < s.length; i += 2) {
    let v: i32 = 0;
    for (let j = 0; j < 2; j++) {
      const c = s.charCodeAt(i + j);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) return null;
      v = v * 16 + d;
    }
    out[i >> 1] = <u8>v;
  }
  return out;
}
