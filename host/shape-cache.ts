/**
 * Functions generated per object shape — the record's own enumerable keys,
 * in order — cached. The pipeline's encoders (plugin batches, sink items)
 * compile one encoder per key list so V8 sees fixed property reads; records
 * of one batch nearly always share a shape, so the last shape is checked
 * first, key by key, without allocating.
 */
export class ShapeCache<F> {
  private lastKeys: string[] | undefined;
  private last!: F;
  private readonly byShape = new Map<string, F>();

  /** `compile` makes the function of a key list (`sample`: the object it was first seen on); at most `max` shapes are kept (then the cache starts over). */
  constructor(
    private readonly compile: (keys: string[], sample: Record<string, unknown>) => F,
    private readonly max = 64,
  ) {}

  /** The function of the last shape asked for, when `o` has that shape; else undefined. */
  ifLast(o: object): F | undefined {
    return this.isLast(o) ? this.last : undefined;
  }

  /** The function of `o`'s shape. */
  for(o: object): F {
    if (this.isLast(o)) return this.last;
    const keys = Object.keys(o);
    const id = keys.join('\0');
    let fn: F;
    if (this.byShape.has(id)) fn = this.byShape.get(id)!;
    else {
      if (this.byShape.size >= this.max) this.byShape.clear();
      fn = this.compile(keys, o as Record<string, unknown>); // may be a "no generated function" value: cached like any other
      this.byShape.set(id, fn);
    }
    this.lastKeys = keys;
    this.last = fn;
    return fn;
  }

  private isLast(o: object): boolean {
    return this.lastKeys !== undefined && this.sameShape(o, this.lastKeys);
  }

  private sameShape(o: object, keys: string[]): boolean {
    let i = 0;
    for (const k in o) if (keys[i++] !== k) return false;
    return i === keys.length;
  }
}
