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
