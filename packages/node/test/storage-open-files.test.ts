import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../testing/support/temp-dir.js";
import { OpenFiles } from "../src/storage/open-files.js";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function files(count: number): string[] {
  const dir = tempDir();
  dirs.push(dir);
  return Array.from({ length: count }, (_, i) => {
    const path = join(dir.path, `f${i}`);
    writeFileSync(path, `file ${i}`);
    return path;
  });
}

const openFds = () => readdirSync("/proc/self/fd").length;
/** Waits until the process holds `count` descriptors (closes finish in the thread pool). */
async function expectOpenFds(count: number): Promise<void> {
  for (let waited = 0; openFds() !== count && waited < 2000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(openFds()).toBe(count);
}

describe.runIf(process.platform === "linux")("OpenFiles", () => {
  it("shares one handle between readers and closes it once evicted and released", async () => {
    const [path] = files(1) as [string];
    const cache = new OpenFiles(8);
    const before = openFds();
    const [a, b] = await Promise.all([cache.acquire(path), cache.acquire(path)]);
    expect(a?.file).toBe(b?.file);
    expect(openFds()).toBe(before + 1);
    a?.release();
    cache.evict(path);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openFds()).toBe(before + 1); // b still reads it
    const buffer = Buffer.alloc(6);
    await b?.file.read(buffer, 0, 6, 0);
    expect(buffer.toString()).toBe("file 0");
    b?.release();
    b?.release(); // a second release counts once
    await expectOpenFds(before);
    // Evicted, the next reader opens the file afresh.
    const c = await cache.acquire(path);
    expect(c?.file).not.toBe(a?.file);
    c?.release();
    await cache.close();
    await expectOpenFds(before);
    // Closed, it keeps nothing open past its reader.
    const d = await cache.acquire(path);
    expect(openFds()).toBe(before + 1);
    d?.release();
    await expectOpenFds(before);
  });

  it("keeps at most its bound of idle handles and answers undefined for a missing file", async () => {
    const paths = files(5);
    const cache = new OpenFiles(2);
    const before = openFds();
    for (const path of paths) (await cache.acquire(path))?.release();
    await expectOpenFds(before + 2);
    expect(await cache.acquire(`${paths[0]}-missing`)).toBeUndefined();
    expect(await cache.acquire(`${paths[0]}/not-a-dir`)).toBeUndefined();
    await cache.close();
    await expectOpenFds(before);
  });
});
