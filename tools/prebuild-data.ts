/**
 * npm run build: what is derived from data/ into dist/prebuilt/, so that a command reads only what
 * it needs: the index of each shipped catalog (src/catalog/prebuilt.ts) and the JSON form of each
 * YAML data file (src/io/data-files.ts). data/ stays the source of truth; a file changed after
 * this ran is read from itself until the next build.
 */
import { CATALOG_INDEX_DIR, writeCatalogIndex } from '../src/io/catalog-files.js';
import { PREBUILT_DIR, writeDataJson } from '../src/io/data-files.js';

const catalogs = writeCatalogIndex();
const data = writeDataJson();
console.log(`prebuild-data: ${catalogs.length} catalog indexes (${CATALOG_INDEX_DIR}), ${data.length} data files as JSON (${PREBUILT_DIR})`);
