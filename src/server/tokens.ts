import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { validate } from '../model/validate.js';
import { UserError } from '../util/errors.js';
import { parseJsonOrYaml, readUserFile, writeFileAtomic } from '../util/files.js';

export const TokenRole = Type.Union([Type.Literal('read'), Type.Literal('write')]);
export type TokenRole = Static<typeof TokenRole>;

/** The tokens file of `guestabi serve --tokens FILE`: only hashes are kept, never a token. */
export const TokensFile = Type.Object(
  {
    anonymous: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('none')], { description: 'What a request without a token may do (default read).' })),
    tokens: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, description: 'Who holds it; rate limits and logs use this name.' }),
          role: TokenRole,
          sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the token, in hex.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'guestabi/tokens@1' },
);
export type TokensFile = Static<typeof TokensFile>;

export interface Caller {
  name: string;
  role: TokenRole | 'anonymous';
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function loadTokens(path: string): TokensFile {
  const file = validate(TokensFile, parseJsonOrYaml(readUserFile(path, 'tokens file'), path), path);
  const names = new Set<string>();
  for (const t of file.tokens) {
    if (names.has(t.name)) throw new UserError(`two tokens are called '${t.name}'`, path);
    names.add(t.name);
  }
  return file;
}

/** A new token for NAME: appended (hashed) to the file, returned once in clear. */
export function addToken(path: string, name: string, role: TokenRole): string {
  const file: TokensFile = existsSync(path) ? loadTokens(path) : { tokens: [] };
  if (file.tokens.some((t) => t.name === name)) throw new UserError(`a token called '${name}' exists already`, path);
  const token = `gabi_${randomBytes(24).toString('base64url')}`;
  file.tokens.push({ name, role, sha256: hashToken(token) });
  writeFileAtomic(path, stringify(file));
  return token;
}

/** Who is calling, from an Authorization header; undefined for a token the file does not hold. */
export function identify(file: TokensFile, header: string | undefined): Caller | undefined {
  if (header === undefined) return { name: 'anonymous', role: 'anonymous' };
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return undefined;
  const digest = Buffer.from(hashToken(m[1]!), 'hex');
  const hit = file.tokens.find((t) => timingSafeEqual(Buffer.from(t.sha256, 'hex'), digest));
  return hit ? { name: hit.name, role: hit.role } : undefined;
}
