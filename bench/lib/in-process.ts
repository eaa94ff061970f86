/** A built plugin instantiated in this thread, as a plugin worker instantiates it (stub host imports, empty config). */
import { coreImports, type HostFunctions } from '../../host/plugins/direct-call.js';
import { loadPlugin } from '../../host/plugins/loader.js';
import type { Stage } from '../../host/plugins/wit-check.js';

/** The component's core instances. */
export async function coreInstances(wasm: string, sha256: string, stage: Stage): Promise<WebAssembly.Instance[]> {
  const loaded = await loadPlugin({ name: 'bench', stage, path: wasm, sha256 });
  const { instantiate } = (await import(loaded.glue)) as { instantiate: Function };
  const host: HostFunctions = { log() {}, config: () => [], getProcess: () => undefined, processChain: () => [], flowProcess: () => undefined };
  const imports: Record<string, unknown> = {};
  for (const n of loaded.imports) imports[n] = imports[n.replace(/@.*$/, '')] = host; // the glue looks imports up unversioned too
  const cores: WebAssembly.Instance[] = [];
  await instantiate((n: string) => loaded.modules[n], imports, (m: WebAssembly.Module, im?: WebAssembly.Imports) => {
    let self: WebAssembly.Instance | undefined;
    const i = new WebAssembly.Instance(m, coreImports(m, im, host, () => self!)); // synchronously, host imports lowered, as host/plugins/worker.ts does
    self = i;
    cores.push(i);
    return i;
  });
  return cores;
}

/** A stage's core exports, called without the glue: its memory, allocator, the stage function and its post-return. */
export type StageCore<F extends 'format' | 'redact'> = {
  memory: WebAssembly.Memory;
  cabi_realloc: (p: number, o: number, a: number, n: number) => number;
} & Record<F, (p: number, n: number) => number> & Record<`cabi_post_${F}`, (r: number) => void>;

/** The core instance of a built plugin that exports `fn` (stub host imports; config empty). */
export async function stageCore<F extends 'format' | 'redact'>(wasm: string, sha256: string, fn: F): Promise<StageCore<F>> {
  const cores = await coreInstances(wasm, sha256, fn === 'format' ? 'formatter' : 'redactor');
  const core = cores.find((c) => typeof c.exports[fn] === 'function');
  if (!core) throw new Error(`no core instance exports ${fn}`);
  return core.exports as unknown as StageCore<F>;
}
