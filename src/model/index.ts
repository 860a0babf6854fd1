import type { TSchema } from '@sinclair/typebox';
import { Catalog } from './catalog.js';
import { HostProfile } from './host.js';

/** Every published document type, by the name its JSON Schema file carries. */
export const SCHEMAS: Record<string, TSchema> = {
  catalog: Catalog,
  'host-profile': HostProfile,
};
