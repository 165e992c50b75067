import { closeSync, openSync, readSync, writeSync } from "node:fs";

/**
 * Flips bits of one byte of a file in place (XOR with `mask`), as bit rot or a tampering peer
 * would: the file keeps its size, and a process that has it open reads the damaged byte.
 */
export function flipByte(path: string, offset: number, mask = 0x01): void {
  const fd = openSync(path, "r+");
  try {
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, offset);
    one[0] = (one[0] as number) ^ mask;
    writeSync(fd, one, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}
