/**
 * A body's chunks, in order, refused with `tooLarge()` as soon as more than `max` bytes have
 * come: the chunk that crosses the limit is never handed on.
 */
export async function* capped<T extends Uint8Array>(
  body: AsyncIterable<T>,
  max: number,
  tooLarge: () => Error,
): AsyncGenerator<T, void, undefined> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    yield chunk;
  }
}

/** A whole body, refused with `tooLarge()` past `max` bytes. */
export async function readCapped(
  body: AsyncIterable<Uint8Array>,
  max: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of capped(body, max, tooLarge)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
