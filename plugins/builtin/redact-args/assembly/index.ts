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
import { Redactor, Policy, Hasher, MODE_MASK, MODE_HASH, MODE_DROP_ARGS, SUMMARY_PREFIX } from "./core/rules";
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
  for (let i = 0; i < flows.length; i++) {
    const f = unchecked(flows[i]);
    const lists = f.processArgs;
    for (let j = 0; j < lists.length; j++) unchecked(lists[j] = r.redactList(f.processName, unchecked(lists[j])));
  }
  const summary = r.takeSummary();
  if (summary.length > 0) log(Level.Debug, SUMMARY_PREFIX + summary);
}
