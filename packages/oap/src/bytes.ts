/**
 * Byte buffers for the codec and the SDK: Node's Buffer where there is one (pooled,
 * uninitialised allocation; what sockets and `ws` take without a copy), plain Uint8Arrays in
 * a browser. Each is chosen once, when this module loads, so Node runs the same Buffer calls
 * as before. In a browser the values typed Buffer here are Uint8Arrays: code that runs there
 * uses only Uint8Array methods on them.
 *
 * Byte counts are read as `.length`, not `.byteLength` (the same number for bytes), throughout
 * the codec, the session and the client. On Node 20, V8's background compiler leaves
 * `byteLength`, `byteOffset` and `buffer` as generic property loads (a call into the inline
 * cache, several per request) where the main-thread compiler would have inlined them; `length`
 * it always inlines. It also looks up `subarray` and `set` generically, so the request path calls
 * them through the prototype (viewOf, copyInto). A DataView's `getUint32`/`setUint32` compile
 * inline either way, so header fields go through direct DataView calls (header.ts).
 * bench/README.md ("The hot path") has the measurements.
 */

const typedArraySet = Uint8Array.prototype.set;
const typedArraySubarray = Uint8Array.prototype.subarray;

/**
 * `target.set(source, offset)`, called through the prototype: the background compiler inlines
 * this call, where it leaves `target.set` as a generic method lookup (see above).
 */
export function copyInto(target: Uint8Array, source: Uint8Array, offset: number): void {
  typedArraySet.call(target, source, offset);
}

/**
 * `bytes.subarray(start, end)`, called through the prototype for the same reason. Only for plain
 * Uint8Arrays, such as the decoder's views: on a Node Buffer the prototype's subarray would build
 * its result through Buffer's deprecated constructor (Buffer's own subarray is another function).
 */
export function viewOf(bytes: Uint8Array, start: number, end?: number): Uint8Array {
  return typedArraySubarray.call(bytes, start, end);
}

const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const utf8 = new TextEncoder();

/** `size` uninitialised bytes (zeroed in a browser). */
export const allocBytes: (size: number) => Buffer = NodeBuffer
  ? (size) => NodeBuffer.allocUnsafe(size)
  : (size) => new Uint8Array(size) as Buffer;

/** The same bytes as a Buffer, without a copy. */
export const asBuffer: (bytes: Uint8Array) => Buffer = NodeBuffer
  ? (bytes) =>
      NodeBuffer.isBuffer(bytes) ? bytes : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  : (bytes) => bytes as Buffer;

/** A copy of `bytes` that shares no memory with them. */
export const copyBytes: (bytes: Uint8Array) => Buffer = NodeBuffer
  ? (bytes) => NodeBuffer.from(bytes)
  : (bytes) => new Uint8Array(bytes) as Buffer;

/** The chunks joined into one buffer; `total`, when given, is their summed length. */
export const concatBytes: (chunks: readonly Uint8Array[], total?: number) => Buffer = NodeBuffer
  ? (chunks, total) => NodeBuffer.concat(chunks, total)
  : (chunks, total) => {
      const out = new Uint8Array(total ?? chunks.reduce((sum, chunk) => sum + chunk.length, 0));
      let at = 0;
      for (const chunk of chunks) {
        out.set(chunk, at);
        at += chunk.length;
      }
      return out as Buffer;
    };

/** `text` as UTF-8. */
export const utf8Bytes: (text: string) => Buffer = NodeBuffer
  ? (text) => NodeBuffer.from(text, "utf8")
  : (text) => utf8.encode(text) as Buffer;

type TickQueue = { nextTick(callback: () => void): void };
const nodeProcess = (globalThis as { process?: Partial<TickQueue> }).process;

/**
 * Runs `callback` once the current microtasks are done: process.nextTick in Node (read at each
 * call, so test doubles of it still work), a microtask in a browser.
 */
export const nextTick: (callback: () => void) => void =
  typeof nodeProcess?.nextTick === "function"
    ? (callback) => (nodeProcess as TickQueue).nextTick(callback)
    : (callback) => queueMicrotask(callback);
