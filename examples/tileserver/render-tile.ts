import { PNG } from "pngjs";

export const TILE_SIZE = 256;

/** 3×5 pixel glyphs for the labels drawn on tiles ("z2 x1 y3"). */
const GLYPHS: Record<string, string[]> = {
  "0": ["111", "101", "101", "101", "111"],
  "1": ["010", "110", "010", "010", "111"],
  "2": ["111", "001", "111", "100", "111"],
  "3": ["111", "001", "111", "001", "111"],
  "4": ["101", "101", "111", "001", "001"],
  "5": ["111", "100", "111", "001", "111"],
  "6": ["111", "100", "111", "101", "111"],
  "7": ["111", "001", "010", "010", "010"],
  "8": ["111", "101", "111", "101", "111"],
  "9": ["111", "101", "111", "001", "111"],
  z: ["000", "111", "010", "100", "111"],
  x: ["000", "101", "010", "101", "101"],
  y: ["000", "101", "111", "001", "111"],
  " ": ["000", "000", "000", "000", "000"],
};

type Rgb = readonly [number, number, number];

/**
 * One map tile as PNG bytes: a colour per zoom level shaded by position, a 32-pixel grid, a
 * border, and the tile's coordinates written in the middle, so a rendered map shows at a
 * glance which tile came from where.
 */
export function renderTile(z: number, x: number, y: number): Buffer {
  const png = new PNG({ width: TILE_SIZE, height: TILE_SIZE });
  const n = 2 ** z;
  const base: Rgb = [60 + ((z * 50) % 160), 120 + Math.round((x / n) * 100), 200 - Math.round((y / n) * 120)];
  for (let py = 0; py < TILE_SIZE; py++) {
    for (let px = 0; px < TILE_SIZE; px++) {
      const border = px === 0 || py === 0 || px === TILE_SIZE - 1 || py === TILE_SIZE - 1;
      const grid = px % 32 === 0 || py % 32 === 0;
      const colour: Rgb = border ? [20, 20, 20] : grid ? shade(base, 0.8) : base;
      set(png, px, py, colour);
    }
  }
  drawText(png, `z${z} x${x} y${y}`, 6, [255, 255, 255]);
  return PNG.sync.write(png);
}

function drawText(png: PNG, text: string, scale: number, colour: Rgb): void {
  const width = text.length * 4 * scale - scale;
  const left = Math.floor((TILE_SIZE - width) / 2);
  const top = Math.floor((TILE_SIZE - 5 * scale) / 2);
  for (const [i, char] of [...text].entries()) {
    const glyph = GLYPHS[char] ?? GLYPHS[" "] ?? [];
    for (const [row, bits] of glyph.entries()) {
      for (const [col, bit] of [...bits].entries()) {
        if (bit !== "1") continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            set(png, left + (i * 4 + col) * scale + dx, top + row * scale + dy, colour);
          }
        }
      }
    }
  }
}

function set(png: PNG, x: number, y: number, [r, g, b]: Rgb): void {
  const at = (y * png.width + x) * 4;
  png.data[at] = r;
  png.data[at + 1] = g;
  png.data[at + 2] = b;
  png.data[at + 3] = 255;
}

function shade([r, g, b]: Rgb, factor: number): Rgb {
  return [Math.round(r * factor), Math.round(g * factor), Math.round(b * factor)];
}
