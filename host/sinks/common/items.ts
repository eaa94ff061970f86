/**
 * Framing helpers for items a route's formatter encoded (see
 * SinkService.frame): sinks frame them, they do not re-encode them.
 */

const NEWLINE = Buffer.from('\n');

/** True for JSON MIME types (`application/json`, `…+json`, `application/x-ndjson`). */
export function isJsonContentType(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t === 'application/json' || t.endsWith('+json') || t === 'application/x-ndjson';
}

/** The item and a newline (file, stdout, NDJSON bodies). */
export function line(item: Uint8Array): Buffer {
  return Buffer.concat([item, NEWLINE]);
}

/** The item's text (UTF-8). */
export function itemText(item: Uint8Array): string {
  return Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('utf8');
}

/**
 * The item as a map for msgpack destinations (fluent-forward records, http
 * msgpack bodies): a JSON item that is an object is decoded into that map;
 * anything else (CEF text, a JSON array or scalar, bytes that do not parse)
 * is carried whole as `{message: "<item text>"}`.
 */
export function itemMap(item: Uint8Array, contentType: string): Record<string, unknown> {
  const text = itemText(item);
  if (isJsonContentType(contentType)) {
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* carried as a message below */
    }
  }
  return { message: text };
}
