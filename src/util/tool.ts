import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** guestabi's version, from package.json (recorded in every catalog and profile it writes). */
export function toolVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = `guestabi ${pkg.version}`;
  }
  return cached;
}
