/**
 * libbpf.so.1 and the few libc calls procflow needs, bound through koffi.
 * Pointers are BigInt (0n is NULL). libbpf 1.x returns NULL or a negative
 * errno; for NULL, `koffi.errno()` holds the reason.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { constants as osConstants } from 'node:os';
import { ERRORS, ProcflowError } from '../../errors.js';

/** A native pointer as koffi hands it out. */
export type Ptr = bigint;

/** BTF kinds used with btf__find_by_name_kind. */
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_FUNC = 12;

/** The functions bound from libbpf and libc. */
export interface Libbpf {
  objectOpenFile(path: string): Ptr;
  objectLoad(obj: Ptr): number;
  objectClose(obj: Ptr): void;
  objectNextProgram(obj: Ptr, prev: Ptr): Ptr;
  objectNextMap(obj: Ptr, prev: Ptr): Ptr;
  objectFindMapByName(obj: Ptr, name: string): Ptr;
  programName(prog: Ptr): string;
  programSectionName(prog: Ptr): string;
  programSetAutoload(prog: Ptr, on: boolean): number;
  programAutoload(prog: Ptr): boolean;
  programSetLogBuf(prog: Ptr, buf: Buffer, size: number): number;
  programSetLogLevel(prog: Ptr, level: number): number;
  programAttach(prog: Ptr): Ptr;
  programAttachCgroup(prog: Ptr, cgroupFd: number): Ptr;
  programAttachIter(prog: Ptr): Ptr;
  linkFd(link: Ptr): number;
  linkDestroy(link: Ptr): number;
  iterCreate(linkFd: number): number;
  mapName(map: Ptr): string;
  mapFd(map: Ptr): number;
  mapSetMaxEntries(map: Ptr, n: number): number;
  mapMaxEntries(map: Ptr): number;
  mapInitialValue(map: Ptr, sizeOut: bigint[]): Ptr;
  mapLookupElem(fd: number, key: Buffer, value: Buffer): number;
  mapGetNextKey(fd: number, key: Buffer | null, next: Buffer): number;
  mapDeleteElem(fd: number, key: Buffer): number;
  numPossibleCpus(): number;
  loadVmlinuxBtf(): Ptr;
  btfFindByNameKind(btf: Ptr, name: string, kind: number): number;
  btfFree(btf: Ptr): void;
  mmap(addr: Ptr | null, len: number, prot: number, flags: number, fd: number, off: number): Ptr;
  munmap(addr: Ptr, len: number): number;
  close(fd: number): number;
  /** CLOCK_BOOTTIME and CLOCK_REALTIME read back to back, in ns. */
  bootToRealtimeOffsetNs(): bigint;
  errno(): number;
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_FAILED = 0xffffffffffffffffn;

let bound: Libbpf | undefined;

/** Binds libbpf once; throws PROCFLOW_E_LIBBPF_MISSING when it is absent. */
export function libbpf(): Libbpf {
  if (bound) return bound;
  let lib: LibraryHandle;
  let libc: LibraryHandle;
  try {
    lib = koffi.load('libbpf.so.1');
    libc = koffi.load('libc.so.6');
  } catch (err) {
    throw new ProcflowError(ERRORS.LIBBPF_MISSING, { reason: (err as Error).message }, { cause: err });
  }
  // libbpf's print callback takes a va_list koffi cannot build: silence it and
  // capture verifier logs per program instead (PROCFLOW_LIBBPF_DEBUG keeps it).
  if (!process.env.PROCFLOW_LIBBPF_DEBUG) {
    lib.func('void *libbpf_set_print(void *fn)')(null);
  }
  koffi.struct('pf_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
  const clockGettime = libc.func('int clock_gettime(int clk, _Out_ pf_timespec *ts)');
  const f = (sig: string) => lib.func(sig);
  const fns = {
    open: f('void *bpf_object__open_file(const char *path, void *opts)'),
    load: f('int bpf_object__load(void *obj)'),
    close: f('void bpf_object__close(void *obj)'),
    nextProg: f('void *bpf_object__next_program(void *obj, void *prev)'),
    nextMap: f('void *bpf_object__next_map(void *obj, void *prev)'),
    findMap: f('void *bpf_object__find_map_by_name(void *obj, const char *name)'),
    progName: f('const char *bpf_program__name(void *prog)'),
    progSec: f('const char *bpf_program__section_name(void *prog)'),
    setAutoload: f('int bpf_program__set_autoload(void *prog, bool on)'),
    autoload: f('bool bpf_program__autoload(void *prog)'),
    setLogBuf: f('int bpf_program__set_log_buf(void *prog, _Inout_ uint8_t *buf, size_t size)'),
    setLogLevel: f('int bpf_program__set_log_level(void *prog, uint32_t level)'),
    attach: f('void *bpf_program__attach(void *prog)'),
    attachCgroup: f('void *bpf_program__attach_cgroup(void *prog, int fd)'),
    attachIter: f('void *bpf_program__attach_iter(void *prog, void *opts)'),
    linkFd: f('int bpf_link__fd(void *link)'),
    linkDestroy: f('int bpf_link__destroy(void *link)'),
    iterCreate: f('int bpf_iter_create(int fd)'),
    mapName: f('const char *bpf_map__name(void *map)'),
    mapFd: f('int bpf_map__fd(void *map)'),
    mapSetMax: f('int bpf_map__set_max_entries(void *map, uint32_t n)'),
    mapMax: f('uint32_t bpf_map__max_entries(void *map)'),
    mapInit: f('void *bpf_map__initial_value(void *map, _Out_ size_t *psize)'),
    lookup: f('int bpf_map_lookup_elem(int fd, const uint8_t *key, _Inout_ uint8_t *value)'),
    nextKey: f('int bpf_map_get_next_key(int fd, const uint8_t *key, _Inout_ uint8_t *next)'),
    del: f('int bpf_map_delete_elem(int fd, const uint8_t *key)'),
    ncpus: f('int libbpf_num_possible_cpus(void)'),
    vmlinuxBtf: f('void *btf__load_vmlinux_btf()'),
    btfFind: f('int btf__find_by_name_kind(void *btf, const char *name, uint32_t kind)'),
    btfFree: f('void btf__free(void *btf)'),
    mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
    munmap: libc.func('int munmap(void *addr, size_t len)'),
    closeFd: libc.func('int close(int fd)'),
  };
  const ptr = (p: unknown): Ptr => (p === null || p === undefined ? 0n : (p as bigint));
  bound = {
    objectOpenFile: (path) => ptr(fns.open(path, null)),
    objectLoad: (obj) => fns.load(obj),
    objectClose: (obj) => fns.close(obj),
    objectNextProgram: (obj, prev) => ptr(fns.nextProg(obj, prev === 0n ? null : prev)),
    objectNextMap: (obj, prev) => ptr(fns.nextMap(obj, prev === 0n ? null : prev)),
    objectFindMapByName: (obj, name) => ptr(fns.findMap(obj, name)),
    programName: (prog) => fns.progName(prog),
    programSectionName: (prog) => fns.progSec(prog),
    programSetAutoload: (prog, on) => fns.setAutoload(prog, on),
    programAutoload: (prog) => fns.autoload(prog),
    programSetLogBuf: (prog, buf, size) => fns.setLogBuf(prog, buf, size),
    programSetLogLevel: (prog, level) => fns.setLogLevel(prog, level),
    programAttach: (prog) => ptr(fns.attach(prog)),
    programAttachCgroup: (prog, fd) => ptr(fns.attachCgroup(prog, fd)),
    programAttachIter: (prog) => ptr(fns.attachIter(prog, null)),
    linkFd: (link) => fns.linkFd(link),
    linkDestroy: (link) => fns.linkDestroy(link),
    iterCreate: (fd) => fns.iterCreate(fd),
    mapName: (map) => fns.mapName(map),
    mapFd: (map) => fns.mapFd(map),
    mapSetMaxEntries: (map, n) => fns.mapSetMax(map, n),
    mapMaxEntries: (map) => fns.mapMax(map),
    mapInitialValue: (map, sizeOut) => {
      const out = [0n];
      const p = ptr(fns.mapInit(map, out));
      sizeOut[0] = BigInt(out[0]);
      return p;
    },
    mapLookupElem: (fd, key, value) => fns.lookup(fd, key, value),
    mapGetNextKey: (fd, key, next) => fns.nextKey(fd, key, next),
    mapDeleteElem: (fd, key) => fns.del(fd, key),
    numPossibleCpus: () => fns.ncpus(),
    loadVmlinuxBtf: () => ptr(fns.vmlinuxBtf()),
    btfFindByNameKind: (btf, name, kind) => fns.btfFind(btf, name, kind),
    btfFree: (btf) => fns.btfFree(btf),
    mmap: (addr, len, prot, flags, fd, off) => ptr(fns.mmap(addr, len, prot, flags, fd, off)),
    munmap: (addr, len) => fns.munmap(addr, len),
    close: (fd) => fns.closeFd(fd),
    bootToRealtimeOffsetNs: () => {
      const boot = { tv_sec: 0, tv_nsec: 0 };
      const real = { tv_sec: 0, tv_nsec: 0 };
      clockGettime(7 /* CLOCK_BOOTTIME */, boot);
      clockGettime(0 /* CLOCK_REALTIME */, real);
      const ns = (t: { tv_sec: number | bigint; tv_nsec: number | bigint }) =>
        BigInt(t.tv_sec) * 1_000_000_000n + BigInt(t.tv_nsec);
      return ns(real) - ns(boot);
    },
    errno: () => koffi.errno(),
  };
  return bound;
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value as number, name]),
);

/** "ENOENT (2)" for a positive or negative errno. */
export function errnoName(err: number): string {
  const n = Math.abs(err);
  return `${errnoNames.get(n) ?? 'E?'} (${n})`;
}

/** Reads a C string out of a byte buffer (up to the first NUL). */
export function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/** Wraps a native pointer as an ArrayBuffer of `len` bytes (no copy). */
export function viewOf(p: Ptr, len: number): ArrayBuffer {
  return koffi.view(p, len);
}
