/**
 * The valet key glyph as a raw BGRA bitmap of `size`×`size` pixels: a ring (the key's bow)
 * and a shaft with two teeth. Drawn in code so the tray needs no image files, at any scale.
 * `rgb` is the colour (black for a macOS template image).
 */
export function keyGlyph(size: number, rgb: [number, number, number]): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  const u = size / 16;
  const cx = 5 * u;
  const cy = 8 * u;
  const inside = (x: number, y: number): boolean => {
    const d = Math.hypot(x - cx, y - cy);
    if (d <= 4.5 * u && d >= 2.2 * u) return true;
    const shaft = x >= 9 * u && x <= 15.5 * u && y >= 7 * u && y <= 9 * u;
    const tooth1 = x >= 12 * u && x <= 13.5 * u && y >= 9 * u && y <= 11.5 * u;
    const tooth2 = x >= 14.2 * u && x <= 15.5 * u && y >= 9 * u && y <= 11 * u;
    return shaft || tooth1 || tooth2;
  };
  // 4×4 supersampling gives smooth edges at 16 px.
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < 4; sy++)
        for (let sx = 0; sx < 4; sx++) if (inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4)) hits++;
      const i = (y * size + x) * 4;
      pixels[i] = rgb[2];
      pixels[i + 1] = rgb[1];
      pixels[i + 2] = rgb[0];
      pixels[i + 3] = Math.round((hits / 16) * 255);
    }
  }
  return pixels;
}
