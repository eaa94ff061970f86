// Canonical ABI plumbing shared by every world: allocation, return areas, post-return.
// Memory is an arena (the `stub` runtime's bump allocator): everything a call
// allocates is released at once by the post-return function, so a plugin's
// memory does not grow from batch to batch. Consequence for authors: heap
// objects created at module level do not survive the first call.

/** Static return area: the largest is `option<process>` (40 bytes: tag, then the 36-byte record at 4). */
export const RET_AREA: usize = memory.data(40, 8);

/** The component model's allocator: lowering the host's arguments and import results uses it. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) return align;
  if (oldPtr == 0) return heap.alloc(newSize);
  return heap.realloc(oldPtr, newSize);
}

/** Counts the post-returns: what a call left in static memory for itself is stale once it changes. */
export let arenaEpoch: u32 = 0;

/** Post-return: drops everything the call allocated. */
export function resetArena(): void {
  heap.reset();
  arenaEpoch++;
}

/** Writes `result::ok(list)` into the return area. */
export function retOk(ptr: usize, len: usize): usize {
  store<u8>(RET_AREA, 0);
  store<u32>(RET_AREA, <u32>ptr, 4);
  store<u32>(RET_AREA, <u32>len, 8);
  return RET_AREA;
}

/** Writes `result::err(message)` into the return area. */
export function retErr(message: string): usize {
  const buf = String.UTF8.encode(message);
  store<u8>(RET_AREA, 1);
  store<u32>(RET_AREA, <u32>changetype<usize>(buf), 4);
  store<u32>(RET_AREA, <u32>buf.byteLength, 8);
  return RET_AREA;
}

/** Writes a string into the return area (functions returning `string`). */
export function retString(s: string): usize {
  const buf = String.UTF8.encode(s);
  store<u32>(RET_AREA, <u32>changetype<usize>(buf), 0);
  store<u32>(RET_AREA, <u32>buf.byteLength, 4);
  return RET_AREA;
}

let pendingError: string | null = null;

/** Makes the current call return an error instead of a batch (the host applies the stage's failure policy). */
export function fail(message: string): void {
  pendingError = message;
}

/** Takes the error set with `fail` during this call, if any. */
export function takeError(): string | null {
  const e = pendingError;
  pendingError = null;
  return e;
}
