// StarlingMonkey provides TextEncoder/TextDecoder; the plugin tsconfig loads no DOM lib.
declare class TextEncoder { encode(s: string): Uint8Array; }
declare class TextDecoder { decode(b: Uint8Array): string; }
