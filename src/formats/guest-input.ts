import type { Document } from '@xmldom/xmldom';
import { GuestSpec } from '../model/guest.js';
import { validate } from '../model/validate.js';
import { UserError } from '../util/errors.js';
import { parseJsonOrYaml, readUserFile } from '../util/files.js';
import { parseArgvText } from './argv-in.js';
import { parseLibvirtXml } from './libvirt-in.js';
import { checkGuestLimits } from '../resolve/limits.js';

export type GuestFormat = 'libvirt' | 'argv' | 'spec';

export interface LoadedGuest {
  spec: GuestSpec;
  format: GuestFormat;
  source: string;
  /** For libvirt input: the document, so output can be written back into it. */
  document?: Document;
}

/** Tell the format from the text: XML, a QEMU command line, or a GuestSpec in JSON or YAML. */
export function detectFormat(text: string): GuestFormat {
  const t = text.trimStart();
  if (t.startsWith('<')) return 'libvirt';
  if (t.startsWith('{')) return 'spec';
  if (/^(\S*qemu-system-\S+|-\w)/.test(t) || /(^|\s)-(machine|cpu|device|M|m|smp)\s/.test(t)) return 'argv';
  return 'spec';
}

export function parseGuestText(text: string, source: string, format: GuestFormat = detectFormat(text)): LoadedGuest {
  const loaded = parseGuestForm(text, source, format);
  // QEMU's own bounds and guestabi's limits, the same for every form, before any work.
  checkGuestLimits(loaded.spec, source);
  return loaded;
}

function parseGuestForm(text: string, source: string, format: GuestFormat): LoadedGuest {
  switch (format) {
    case 'libvirt': {
      const { spec, document } = parseLibvirtXml(text, source);
      return { spec, format, source, document };
    }
    case 'argv':
      return { spec: parseArgvText(text, source), format, source };
    case 'spec': {
      const spec = validate(GuestSpec, parseJsonOrYaml(text, source), source);
      return { spec, format, source };
    }
  }
}

/** A guest from a file (any of the three forms) or from --guest-argv. */
export function loadGuest(opts: { file?: string; argv?: string }): LoadedGuest {
  if (opts.file !== undefined && opts.argv !== undefined) throw new UserError('give a guest file or --guest-argv, not both');
  if (opts.argv !== undefined) return parseGuestText(opts.argv, '--guest-argv', 'argv');
  if (opts.file === undefined) throw new UserError('which guest? give a file (libvirt XML, QEMU command line, JSON/YAML) or --guest-argv');
  return parseGuestText(readUserFile(opts.file, 'guest'), opts.file);
}
