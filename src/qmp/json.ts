/**
 * QMP is JSON, but QEMU prints uint64 values (lbr-fmt, sizes, addresses) that a double cannot
 * hold. JSON.parse would round them silently, and two different values could then compare
 * equal. Integer literals of 16 digits or more are therefore quoted (with a marker no QMP
 * string can start with) before parsing; those that fit 2^53 become numbers again, the others
 * stay exact decimal strings.
 */
const MARK = '\u0001int:';
const LONG_INTEGER = /^-?\d{16,}$/;

export function parseQmpJson(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return JSON.parse(quoteLongIntegers(text), (_key, value: unknown) => {
    if (typeof value === 'string' && value.startsWith(MARK)) {
      const digits = value.slice(MARK.length);
      const n = Number(digits);
      return Number.isSafeInteger(n) ? n : digits;
    }
    return value;
  });
}

function quoteLongIntegers(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < n && /[0-9.eE+-]/.test(text[j]!)) j++;
      const token = text.slice(i, j);
      out += LONG_INTEGER.test(token) ? `"\\u0001int:${token}"` : token;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
