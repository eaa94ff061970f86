/**
 * What a plugin may import and must export. The check runs on the WIT that
 * wasm-tools prints for the component (jco's componentWit), so every import is
 * named exactly, version included, before any plugin code runs.
 */

/** The contract package this host implements. */
export const CONTRACT = 'procflow:plugin@0.1.0';

/** Interfaces of the host world; a plugin may import these and nothing else by default. */
export const HOST_INTERFACES = ['procflow:plugin/host@0.1.0', 'procflow:plugin/types@0.1.0'] as const;

/** Capabilities an operator may grant a plugin (`grants:`), and the WASI interfaces each opens. */
export const GRANTS = {
  clocks: ['wasi:clocks/wall-clock', 'wasi:clocks/monotonic-clock'],
  random: ['wasi:random/random'],
} as const;

/** A grantable capability. */
export type Grant = keyof typeof GRANTS;

/** The three stage worlds. */
export type Stage = 'enricher' | 'redactor' | 'formatter';

/** Exports each stage world requires. */
export const STAGE_EXPORTS: Record<Stage, readonly string[]> = {
  enricher: ['batch-encoding', 'enrich'],
  redactor: ['batch-encoding', 'redact'],
  formatter: ['batch-encoding', 'content-type', 'format'],
};

/** Imports and exports of the component's root world, parsed from its WIT. */
export interface WorldShape {
  imports: string[];
  exports: string[];
}

/** Parses `import …;` / `export …` items of the root world printed by wasm-tools. */
export function parseWorld(wit: string): WorldShape {
  const imports: string[] = [];
  const exports: string[] = [];
  const world = /world\s+root\s*\{([\s\S]*)\}/.exec(wit);
  const body = world ? world[1] : wit;
  let depth = 0;
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    if (depth === 0) {
      const m = /^(import|export)\s+(\S+?)(;|:\s|\s*\{|$)/.exec(line);
      if (m) (m[1] === 'import' ? imports : exports).push(m[2]);
    }
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
  }
  return { imports, exports };
}

/** Strips `@version` from an interface name. */
export function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

/** The imports the host refuses, given the operator's grants (empty when all are allowed). */
export function refusedImports(imports: readonly string[], grants: readonly Grant[] = []): string[] {
  const allowed = new Set<string>(HOST_INTERFACES);
  const granted = new Set<string>(grants.flatMap((g) => GRANTS[g]));
  return imports.filter((i) => !allowed.has(i) && !(i.startsWith('wasi:') && granted.has(unversioned(i))));
}

/** The stage a component implements, judged by its exports; undefined when none matches exactly. */
export function stageOf(exports: readonly string[]): Stage | undefined {
  const have = new Set(exports);
  for (const [stage, need] of Object.entries(STAGE_EXPORTS) as [Stage, readonly string[]][]) {
    if (need.every((e) => have.has(e)) && have.size === need.length) return stage;
  }
  return undefined;
}
