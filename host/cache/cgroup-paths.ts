/**
 * cgroup v2 id → path. On cgroup v2 a cgroup's id (what
 * bpf_get_current_cgroup_id() returns, `kn->id` in the kernel) is the inode
 * number of its directory under the cgroup2 mount, so the resolver walks that
 * tree and remembers id → path. Ids are never reused while the kernel runs, so
 * a remembered path stays right (for a removed cgroup it is the path it had).
 * A miss triggers a fresh walk, at most once per `minRescanMs` for the same
 * unknown id; the walk and the memory are bounded.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Resolver bounds. */
export interface CgroupPathsOptions {
  /** The cgroup2 mount point (e.g. /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
  root: string;
  /** Directories visited per walk at most (a host with more cgroups resolves the first ones found). */
  maxDirs?: number;
  /** Ids remembered at most; past it the oldest half is forgotten. */
  maxEntries?: number;
  /** An id a walk did not find triggers no new walk for this long, ms. */
  minRescanMs?: number;
}

/** Hit/miss/walk counters. */
export interface CgroupPathsStats {
  size: number;
  walks: number;
  misses: number;
}

/** Maps cgroup v2 ids to paths relative to the cgroup2 root (`/` is the root itself). */
export class CgroupPaths {
  private readonly byId = new Map<number, string>();
  /** Ids the last walks did not find → when they were last looked for. */
  private readonly unknown = new Map<number, number>();
  private readonly maxDirs: number;
  private readonly maxEntries: number;
  private readonly minRescanMs: number;
  private walks = 0;
  private misses = 0;

  constructor(private readonly options: CgroupPathsOptions) {
    this.maxDirs = options.maxDirs ?? 100_000;
    this.maxEntries = options.maxEntries ?? 50_000;
    this.minRescanMs = options.minRescanMs ?? 5_000;
  }

  /** The path of cgroup `id`, or undefined (0/unknown id, cgroup removed before it was ever seen, no cgroup2 mount). */
  resolve(id: number, nowMs = Date.now()): string | undefined {
    if (!id) return undefined;
    const hit = this.byId.get(id);
    if (hit !== undefined) return hit;
    const triedAt = this.unknown.get(id);
    if (triedAt === undefined || nowMs - triedAt >= this.minRescanMs) {
      this.walk();
      const found = this.byId.get(id);
      if (found !== undefined) {
        this.unknown.delete(id);
        return found;
      }
      if (this.unknown.size >= this.maxEntries) this.unknown.clear(); // bounded: forgetting only costs a walk
      this.unknown.set(id, nowMs);
    }
    this.misses++;
    return undefined;
  }

  /** Counters and size. */
  stats(): CgroupPathsStats {
    return { size: this.byId.size, walks: this.walks, misses: this.misses };
  }

  /** Breadth-first walk of the cgroup2 tree, remembering every directory's inode number. */
  private walk(): void {
    this.walks++;
    const queue: string[] = ['/'];
    for (let i = 0; i < queue.length && i < this.maxDirs; i++) {
      const rel = queue[i];
      const abs = rel === '/' ? this.options.root : join(this.options.root, rel);
      let ino: number;
      let names: string[];
      try {
        ino = statSync(abs).ino;
        names = readdirSync(abs, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
      } catch {
        continue; // removed meanwhile, or no cgroup2 mount
      }
      this.remember(ino, rel);
      for (const n of names) queue.push(rel === '/' ? `/${n}` : `${rel}/${n}`);
    }
  }

  private remember(id: number, path: string): void {
    if (this.byId.get(id) === path) return;
    if (this.byId.size >= this.maxEntries) {
      // Forget the oldest half (Map keeps insertion order); live cgroups come back on the next walk.
      let drop = this.byId.size >> 1;
      for (const k of this.byId.keys()) {
        if (drop-- <= 0) break;
        this.byId.delete(k);
      }
    }
    this.byId.set(id, path);
  }
}
