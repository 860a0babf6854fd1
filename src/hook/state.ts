import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookConfig } from '../model/hook.js';
import { validate } from '../model/validate.js';
import { UserError } from '../util/errors.js';
import { parseJsonOrYaml } from '../util/files.js';

/** Where install keeps the hook's configuration, profiles and log, and where the script goes. */
export const DEFAULT_STATE = '/var/lib/guestabi/hook';
export const DEFAULT_HOOKS_DIR = '/etc/libvirt/hooks/qemu.d';
export const SCRIPT_NAME = 'guestabi';

export function configPath(state: string): string {
  return join(state, 'config.json');
}

export function hookInstalled(state: string): boolean {
  return existsSync(configPath(state));
}

/** The configuration install wrote; a missing or damaged one is an error (the script then lets
 *  libvirt proceed and logs it). */
export function readHookConfig(state: string): HookConfig {
  const file = configPath(state);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`the hook is not installed here (no ${file}): guestabi hook install`, '--state');
  }
  return validate(HookConfig, parseJsonOrYaml(text, file), file);
}
