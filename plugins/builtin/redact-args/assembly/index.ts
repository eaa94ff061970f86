// The built-in argument redactor (docs/redaction.md). The rules live in
// core/rules.ts — the same source the host compiles for `trace --redact` and the
// benchmark's TypeScript side (core is a symlink to host/redact/core).
// Config (strings, from the YAML entry and the host):
//   mode: mask (default) | hash | drop-args      replacement: default "[REDACTED]"
//   hmacKey: hex key for hash mode (the host reads it from a 0600 file)
//   policy: the masking policy as JSON (the host validated it)
// After each batch it logs `redact-summary {"rule":count,…}` at debug level:
// counts only, never values; the host adds them to its counters.
import { Flow, log, Level, config, fail } from "procflow-plugin-sdk";
import { Redactor, Policy, Hasher, MODE_MASK, MODE_HASH, MODE_DROP_ARGS, SUMMARY_PREFIX, RULE_COUNT } from "./core/rules";
import { hmacSha256, hex, unhex } from "./sha256";

class HmacHasher extends Hasher {
  key: Uint8Array;
  constructor(key: Uint8Array) {
    super();
    this.key = key;
  }
  hex16(secret: string): string {
    return hex(hmacSha256(this.key, Uint8Array.wrap(String.UTF8.encode(secret))), 8);
  }
}

/** Mixes the bytes [p, e) into `h`: four at a time (multiply, xor-shift), the rest FNV-1a. */
function mixBytes(h: u32, p: usize, e: usize): u32 {
  for (; p + 4 <= e; p += 4) {
    h = (h ^ load<u32>(p)) * 0x9e3779b1;
    h ^= h >> 15;
  }
  for (; p < e; p++) h = (h ^ <u32>load<u8>(p)) * 16777619;
  return h;
}

/** A hash of the bytes of the flow's process name and argument lists as they lie in the batch; 0 when it has neither. Equal hashes are confirmed by sameRaw. */
function rawHash(f: Flow): u32 {
  if (f.iName < 0 || f.iArgs < 0) return 0;
  const h = mixBytes(mixBytes(2166136261, f.valPtr(f.iName), f.valEnd(f.iName)), f.valPtr(f.iArgs), f.valEnd(f.iArgs));
  return h == 0 ? 1 : h;
}

/** The two flows' process names and argument lists are the same bytes in the batch. */
function sameRaw(a: Flow, b: Flow): bool {
  const an = a.valEnd(a.iName) - a.valPtr(a.iName);
  const aa = a.valEnd(a.iArgs) - a.valPtr(a.iArgs);
  if (an != b.valEnd(b.iName) - b.valPtr(b.iName) || aa != b.valEnd(b.iArgs) - b.valPtr(b.iArgs)) return false;
  return memory.compare(a.valPtr(a.iName), b.valPtr(b.iName), an) == 0 && memory.compare(a.valPtr(a.iArgs), b.valPtr(b.iArgs), aa) == 0;
}

function setting(cfg: Map<string, string>, key: string, dflt: string): string {
  return cfg.has(key) ? cfg.get(key) : dflt;
}

export function redact(flows: Flow[]): void {
  const cfg = config();
  const modeName = setting(cfg, "mode", "mask");
  let mode = MODE_MASK;
  if (modeName == "hash") mode = MODE_HASH;
  else if (modeName == "drop-args") mode = MODE_DROP_ARGS;
  else if (modeName != "mask") { fail("config mode: expected mask, hash or drop-args"); return; }
  let key = new Uint8Array(0);
  if (mode == MODE_HASH) {
    const k = unhex(setting(cfg, "hmacKey", ""));
    if (k === null || k.length < 16) { fail("config mode hash: no HMAC key (the host supplies hmacKey from its key file)"); return; }
    key = k;
  }
  const policy = Policy.parse(setting(cfg, "policy", ""));
  if (!policy.ok) { fail("config policy: not valid JSON"); return; }
  const r = new Redactor(mode, setting(cfg, "replacement", "[REDACTED]"), new HmacHasher(key), policy);
  // Flows of one process repeat its argument lists: each distinct (executable, lists) is redacted
  // once per batch and its result and counts reused (the rules depend on nothing else).
  const seen = new Map<u32, i32>();
  const results = new Array<string[][] | null>(flows.length);
  const deltas = new Array<i32[] | null>(flows.length);
  // `before` mirrors r.counts as of the last flow; r.replaced tells whether a flow masked anything
  const before = new Array<i32>(RULE_COUNT).fill(0);
  for (let i = 0; i < flows.length; i++) {
    const f = unchecked(flows[i]);
    const h = rawHash(f);
    const known = h != 0 && seen.has(h); // nothing is added to `seen` before this flow's own set below
    if (known) {
      const k = seen.get(h);
      const first = unchecked(flows[k]);
      if (sameRaw(f, first)) {
        f.processArgs = unchecked(results[k])!;
        const d = unchecked(deltas[k]);
        if (d !== null) {
          for (let c = 0; c < RULE_COUNT; c++) {
            unchecked(r.counts[c] = unchecked(r.counts[c]) + unchecked(d[c]));
            unchecked(before[c] = unchecked(before[c]) + unchecked(d[c]));
          }
        }
        continue;
      }
    }
    const replaced = r.replaced;
    const lists = f.processArgs;
    for (let j = 0; j < lists.length; j++) unchecked(lists[j] = r.redactList(f.processName, unchecked(lists[j])));
    let d: i32[] | null = null;
    if (r.replaced != replaced) {
      for (let c = 0; c < RULE_COUNT; c++) {
        if (unchecked(r.counts[c]) == unchecked(before[c])) continue;
        if (d === null) d = new Array<i32>(RULE_COUNT).fill(0);
        unchecked(d![c] = unchecked(r.counts[c]) - unchecked(before[c]));
        unchecked(before[c] = unchecked(r.counts[c]));
      }
    }
    if (h == 0 || known) continue; // no raw bytes, or a hash collision: not remembered
    seen.set(h, i);
    unchecked(results[i] = lists);
    unchecked(deltas[i] = d);
  }
  const summary = r.takeSummary();
  if (summary.length > 0) log(Level.Debug, SUMMARY_PREFIX + summary);
}
