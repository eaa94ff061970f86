/**
 * jco's glue tries `WebAssembly.promising` (JSPI) on three core exports of
 * every instance and falls back to the plain export when the call throws.
 * Without JSPI (Node 20) that is a "… is not a function" TypeError, and V8
 * builds its message by re-parsing the enclosing function: the glue's whole
 * instantiate generator, ~160 KB of JavaScript for a componentize-js plugin.
 * That costs ~1.5 ms per call, ~5 ms per instance (measured; bench/README.md,
 * plugin-chain D). Workers install a `promising` that throws a ready-made
 * error instead: the glue takes the same fallback without the re-parse.
 */

/** Gives `wasm` (the worker's `WebAssembly`) a throwing `promising` when it has none; a real one is kept. */
export function installPromisingFallback(wasm: { promising?: unknown }): void {
  if (typeof wasm.promising === 'function') return;
  const noJspi = new TypeError('WebAssembly.promising is not available (no JSPI in this Node)');
  wasm.promising = () => {
    throw noJspi;
  };
}
