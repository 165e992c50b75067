/**
 * zstd frames written by hand (RFC 8878) for hostile-input tests: bombs and broken frames
 * that no compressor would emit, independent of the code under test.
 */
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const RLE_BLOCK = 1;

function blockHeader(last: boolean, type: number, size: number): number[] {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
}

/** `blocks` RLE blocks of `size` bytes under a 2^windowLog window: 4 wire bytes per block. */
export function rleBomb(windowLog: number, size: number, blocks: number, declared?: bigint): Uint8Array {
  const out = [...MAGIC, declared === undefined ? 0x00 : 0xc0, (windowLog - 10) << 3];
  if (declared !== undefined) {
    for (let i = 0n; i < 8n; i++) out.push(Number((declared >> (8n * i)) & 0xffn));
  }
  for (let i = 0; i < blocks; i++) out.push(...blockHeader(i === blocks - 1, RLE_BLOCK, size), 0x61);
  return Uint8Array.from(out);
}

/** A single-segment frame declaring `declared` bytes of content: its window is that size. */
export function declaredSizeBomb(declared: bigint): Uint8Array {
  const out = [...MAGIC, 0xe0];
  for (let i = 0n; i < 8n; i++) out.push(Number((declared >> (8n * i)) & 0xffn));
  out.push(...blockHeader(true, RLE_BLOCK, 128 * 1024), 0x61);
  return Uint8Array.from(out);
}
