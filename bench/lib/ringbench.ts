/**
 * Loads the test-only synthetic producer (bench/bpf/ringbench.bpf.c) through
 * the project's own koffi binding and maps its ring with the project's
 * RingReader — the same read path the agent uses for pf_events.
 */
import { readFileSync } from 'node:fs';
import { readElf } from '../../host/sources/bpf/btf.js';
import { cString, errnoName, libbpf, viewOf, type Libbpf, type Ptr } from '../../host/sources/bpf/libbpf.js';
import { RingReader } from '../../host/sources/bpf/ring.js';

/** Record shapes the producer can write (rb_shape in the BPF program). */
export type RecordShape = 'small' | 'exec';

/** Settings written into the object's .rodata before load. */
export interface RingBenchSettings {
  /** Only getppid() calls of this tgid produce records. */
  tgid: number;
  shape: RecordShape;
  /** Records written per getppid() call (bpf_loop count). */
  perCall: number;
  /** Ring data size in bytes (power of two). */
  ringBytes: number;
}

/** Kernel-side counters of the producer, summed over CPUs. */
export interface RingBenchStats {
  /** Records committed to the ring. */
  produced: number;
  /** Records lost because reserve/output failed (ring full). */
  dropped: number;
  /** getppid() calls of the producer seen by the program. */
  calls: number;
}

/** A loaded and attached producer program with its mapped ring. Call close() once. */
export class RingBench {
  /** The producer's own ring, mapped for reading. */
  readonly reader: RingReader;

  private constructor(
    private readonly lib: Libbpf,
    private readonly obj: Ptr,
    private readonly link: Ptr,
    private readonly statsFd: number,
    reader: RingReader,
  ) {
    this.reader = reader;
  }

  /** Opens, configures, loads and attaches `objectPath`. Throws with the verifier's last lines on failure. */
  static load(objectPath: string, s: RingBenchSettings): RingBench {
    const lib = libbpf();
    const obj = lib.objectOpenFile(objectPath);
    if (obj === 0n) throw new Error(`open ${objectPath}: ${errnoName(lib.errno())}`);
    try {
      let prog = 0n;
      const log = Buffer.alloc(256 * 1024);
      for (let p = lib.objectNextProgram(obj, 0n); p !== 0n; p = lib.objectNextProgram(obj, p)) {
        if (lib.programName(p) === 'ringbench') prog = p;
      }
      if (prog === 0n) throw new Error('program ringbench missing from the object');
      lib.programSetLogBuf(prog, log, log.length);
      writeRodata(lib, obj, objectPath, {
        rb_tgid: s.tgid,
        rb_shape: s.shape === 'exec' ? 1 : 0,
        rb_per_call: s.perCall,
      });
      const ring = lib.objectFindMapByName(obj, 'rb_events');
      if (ring === 0n || lib.mapSetMaxEntries(ring, s.ringBytes) !== 0) throw new Error('cannot size map rb_events');
      const rc = lib.objectLoad(obj);
      if (rc !== 0) {
        const tail = cString(log).trim().split('\n').slice(-6).join('\n');
        throw new Error(`load: ${errnoName(rc)}\n${tail}`);
      }
      const link = lib.programAttach(prog);
      if (link === 0n) throw new Error(`attach tp/syscalls/sys_enter_getppid: ${errnoName(lib.errno())}`);
      const statsMap = lib.objectFindMapByName(obj, 'rb_stats');
      let reader: RingReader;
      try {
        reader = new RingReader(lib.mapFd(ring), lib.mapMaxEntries(ring));
      } catch (err) {
        lib.linkDestroy(link);
        throw err;
      }
      return new RingBench(lib, obj, link, lib.mapFd(statsMap), reader);
    } catch (err) {
      lib.objectClose(obj);
      throw err;
    }
  }

  /** Reads the per-CPU counters and sums them. */
  stats(): RingBenchStats {
    const ncpu = this.lib.numPossibleCpus();
    const key = Buffer.alloc(4);
    const value = Buffer.alloc(8 * ncpu);
    const read = (i: number): number => {
      key.writeUInt32LE(i);
      value.fill(0);
      if (this.lib.mapLookupElem(this.statsFd, key, value) !== 0) return 0;
      let sum = 0;
      for (let c = 0; c < ncpu; c++) sum += Number(value.readBigUInt64LE(c * 8));
      return sum;
    };
    return { produced: read(0), dropped: read(1), calls: read(2) };
  }

  /** Detaches, unmaps and frees everything. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.close();
    this.lib.linkDestroy(this.link);
    this.lib.objectClose(this.obj);
  }

  private closed = false;
}

/** Writes u32 `const volatile` settings into the object's .rodata (offsets from the ELF symbol table). */
function writeRodata(lib: Libbpf, obj: Ptr, objectPath: string, values: Record<string, number>): void {
  const { symbols } = readElf(readFileSync(objectPath));
  let rodata = 0n;
  for (let m = lib.objectNextMap(obj, 0n); m !== 0n; m = lib.objectNextMap(obj, m)) {
    if (lib.mapName(m).endsWith('.rodata')) rodata = m;
  }
  if (rodata === 0n) throw new Error('object has no .rodata map');
  const size = [0n];
  const view = new DataView(viewOf(lib.mapInitialValue(rodata, size), Number(size[0])));
  for (const [name, value] of Object.entries(values)) {
    const sym = symbols.find((s) => s.section === '.rodata' && s.name === name);
    if (!sym) throw new Error(`setting ${name} missing from .rodata`);
    view.setUint32(sym.value, value, true);
  }
}
