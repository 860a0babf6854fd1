import { diffCatalogs } from '../../catalog/diff.js';
import { findCatalog, shippedCatalogs } from '../../io/catalog-files.js';
import { findQemuBuild } from '../../qmp/build.js';
import { CatalogNotFound, UserError } from '../../util/errors.js';
import { parseCommandArgs } from '../args.js';
import { print, printJson } from '../output.js';
import { printDiff } from './catalog.js';
import { printHostSummary, runProbe } from './probe.js';

const USAGE = 'guestabi [overview] [--qemu PATH|VERSION] [--json]';

/**
 * The main job on the built-in defaults: with a QEMU on this machine, probe the host with it and
 * say what it can run; without one, show the shipped catalogs and how they differ.
 */
export async function overviewCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { qemu: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  let haveQemu = true;
  try {
    findQemuBuild(values.qemu);
  } catch (e) {
    // No QEMU here (findQemuBuild's UserError): show the shipped catalogs instead, unless one was asked for.
    if (values.qemu || !(e instanceof UserError)) throw e;
    haveQemu = false;
  }
  if (haveQemu) {
    const { host } = await runProbe({ qemu: values.qemu, hostOnly: true });
    if (values.json) {
      printJson(host);
      return 0;
    }
    let catalog;
    try {
      catalog = findCatalog(host.qemu.catalog);
    } catch (e) {
      // A build with no shipped catalog: the summary goes without what the catalog adds.
      if (!(e instanceof CatalogNotFound)) throw e;
      catalog = undefined;
    }
    printHostSummary(host, catalog);
    print();
    print('Next: guestabi catalog list | guestabi catalog diff 7.2 10.0 | guestabi probe --host-out host.json');
    return 0;
  }
  const all = shippedCatalogs();
  if (values.json) {
    const diffs = all.slice(1).map((c, i) => diffCatalogs(all[i]!, c));
    printJson({ qemu: null, catalogs: all.map((c) => c.id), diffs });
    return 0;
  }
  print('No QEMU on this machine (apt-get install qemu-system-x86, or scripts/fetch-qemu.sh): showing the shipped catalogs.');
  print();
  for (const c of all) print(`  ${c.id}  ${c.data.qemu.package}: ${c.data.machines.length} machine types, ${c.data.cpuModels.length} CPU models`);
  for (let i = 1; i < all.length; i++) {
    print();
    printDiff(diffCatalogs(all[i - 1]!, all[i]!), { showAdded: false });
  }
  return 0;
}
