import { existsSync } from 'node:fs';

/** Fonts commonly present on Linux/macOS; slates get their text only when one exists (drawtext needs a file). */
const CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
];

export function findFont(): string | undefined {
  return CANDIDATES.find((f) => existsSync(f));
}
