import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR, readDataFile, writeDataJson } from '../../src/io/data-files.js';
import { parseJsonOrYaml } from '../../src/util/files.js';

test('the JSON form the build makes of each YAML data file says what the YAML says', () => {
  const out = mkdtempSync(join(tmpdir(), 'guestabi-data-'));
  try {
    const written = writeDataJson(DATA_DIR, out);
    const yaml = ['rules', 'policy', 'registers', 'iommu'].flatMap((d) => readdirSync(join(DATA_DIR, d)).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)));
    assert.deepEqual([...written].sort(), yaml.sort(), 'every YAML file of data/ has its JSON form');
    for (const rel of written) {
      const file = join(DATA_DIR, rel);
      const fromYaml = parseJsonOrYaml(readFileSync(file, 'utf8'), file);
      assert.deepEqual((JSON.parse(readFileSync(join(out, `${rel}.json`), 'utf8')) as { value: unknown }).value, fromYaml, rel);
      // And what a command reads (the build's JSON form when current, else the YAML) is the same.
      assert.deepEqual(readDataFile(file, 'data file'), fromYaml, rel);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
