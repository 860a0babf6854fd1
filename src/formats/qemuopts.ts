/**
 * QEMU's option syntax (QemuOpts / keyval): `first,key=value,flag` with ",," standing for a
 * literal comma. The first element may be an implied key (the device driver, the machine type,
 * the CPU model).
 */
export interface OptsEntry {
  key: string;
  /** undefined for a bare flag such as `enforce` or `+avx2`. */
  value: string | undefined;
}

export function splitOpts(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ',') {
      if (text[i + 1] === ',') {
        cur += ',';
        i++;
        continue;
      }
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

export function parseOpts(text: string): OptsEntry[] {
  return splitOpts(text)
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? { key: p, value: undefined } : { key: p.slice(0, eq), value: p.slice(eq + 1) };
    });
}

/** Escape a value for a QEMU option string. */
export function escapeOpt(value: string): string {
  return value.replaceAll(',', ',,');
}

/** Render key=value pairs; a value of undefined renders as a bare flag. */
export function formatOpts(first: string | undefined, entries: [string, string | undefined][]): string {
  const parts = first !== undefined ? [escapeOpt(first)] : [];
  for (const [k, v] of entries) parts.push(v === undefined ? k : `${k}=${escapeOpt(v)}`);
  return parts.join(',');
}

/** QEMU's boolean spellings for on/off properties. */
export function parseOnOff(value: string | undefined): boolean | undefined {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (['on', 'yes', 'true', 'y'].includes(v)) return true;
  if (['off', 'no', 'false', 'n'].includes(v)) return false;
  return undefined;
}

/**
 * Split a command line the way a POSIX shell would for the common cases: single and double
 * quotes, backslash escapes, and backslash-newline continuations. Comments and expansions are not
 * supported (they are not part of a QEMU command line as tools print it).
 */
export function shellSplit(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) {
        if (text[i + 1] !== '\n') cur += text[i + 1];
        i++;
      } else cur += c;
      continue;
    }
    if (c === '\\' && i + 1 < text.length) {
      if (text[i + 1] !== '\n') {
        cur += text[i + 1];
        inWord = true;
      }
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (quote) throw new Error(`unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) out.push(cur);
  return out;
}

/** Quote one argument for a shell, only when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** QEMU's default memory (mc->default_ram_size, hw/core/machine.c machine_class_init): `-m 0` or no -m. */
export const QEMU_DEFAULT_RAM_MIB = 128;

/**
 * A size as QEMU's qemu_strtosz reads it (util/cutils.c): a number, fractions allowed, with one
 * suffix B, K, M, G, T, P or E (either case, powers of 1024); a bare number is bytes there, but
 * -m takes it as MiB (system/vl.c: "Fix up legacy suffix-less format"). Returns bytes.
 */
export function memoryBytes(text: string, bareUnit = 1024 * 1024): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([bBkKmMgGtTpPeE]?)$/.exec(text.trim());
  if (!m) return undefined;
  const shift: Record<string, number> = { B: 0, K: 10, M: 20, G: 30, T: 40, P: 50, E: 60 };
  const factor = m[2] ? 2 ** shift[m[2].toUpperCase()]! : bareUnit;
  const bytes = Number(m[1]) * factor;
  // QEMU refuses what does not fit in 64 bits ("too large 'size' option value").
  return Number.isFinite(bytes) && bytes < 2 ** 64 ? bytes : undefined;
}

/** Memory sizes as -m reads them, in MiB (QEMU aligns to 8 KiB; guestabi keeps whole MiB, at least 1 when not 0). */
export function parseMemoryMiB(text: string): number | undefined {
  const bytes = memoryBytes(text);
  if (bytes === undefined) return undefined;
  if (bytes === 0) return 0;
  return Math.max(1, Math.round(bytes / (1024 * 1024)));
}
