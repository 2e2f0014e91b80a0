import { readFileSync } from 'node:fs';

/** duologue's version, from package.json (shown by --version and written into provenance). */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
