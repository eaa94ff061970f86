/**
 * The TypeScript mirror of bpf/procflow.h must match the compiled object's
 * BTF: every size and every field offset. A moved field fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layoutMismatches, objectStructs } from '../../../host/sources/bpf/btf.js';
import { LAYOUT } from '../../../host/sources/bpf/layout.js';
import { BPF_OBJECT_PATH } from '../../../host/paths.js';

function structs() {
  // Built by `npm ci` (prepare); reading it needs no kernel and no root.
  expect(existsSync(BPF_OBJECT_PATH), `${BPF_OBJECT_PATH} missing: run npm run build:bpf`).toBe(true);
  return objectStructs(readFileSync(BPF_OBJECT_PATH));
}

describe('record layout', () => {
  it('matches the BTF of the compiled object, field for field', () => {
    const s = structs();
    expect(layoutMismatches(s, LAYOUT)).toEqual([]);
    // The contract's structs are really there (not vacuously compared).
    expect(s.get('pf_exec')?.members.length).toBe(Object.keys(LAYOUT.pf_exec.fields).length);
  });

  it('reports a moved field, a resized struct and a field missing from the decoder', () => {
    const tampered = {
      ...LAYOUT,
      pf_sock: { size: 144, fields: { ...LAYOUT.pf_sock.fields, cookie: [24, 8] as const } },
      pf_exit: { size: LAYOUT.pf_exit.size, fields: { hdr: [0, 16] as const } },
    };
    const diff = layoutMismatches(structs(), tampered);
    expect(diff).toContain('pf_sock: BTF size 136, decoder 144');
    expect(diff).toContain('pf_sock.cookie: BTF [16, 8], decoder [24, 8]');
    expect(diff).toContain('pf_exit.pid: in BTF, not in the decoder');
  });
});
