import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookConfig } from '../model/hook.js';
import { staleEmulator } from './run.js';
import { HOOK_MARKER } from './script.js';
import { hookInstalled, readHookConfig, SCRIPT_NAME } from './state.js';

export interface HookStatus {
  installed: boolean;
  script: { path: string; present: boolean; executable: boolean; ours: boolean };
  config?: HookConfig;
  /** Per profile: current, or why not (the emulator changed since install). */
  profiles: { arch: string; accel: string; qemu: string; catalog: string | null; emulator: string; stale?: string }[];
  log: { path: string; entries: number; refused: number; failures: number; last: Record<string, unknown>[] };
}

/** What is installed, whether it still speaks for this host's QEMU, and its last decisions. */
export function hookStatus(state: string, hooksDir: string, last = 10): HookStatus {
  const installed = hookInstalled(state);
  const config = installed ? readHookConfig(state) : undefined;
  const path = config?.script ?? join(hooksDir, SCRIPT_NAME);
  const present = existsSync(path);
  const executable = present && canRun(path);
  const ours = present && readFileSync(path, 'utf8').includes(HOOK_MARKER);
  const profiles = (config?.profiles ?? []).map((p) => {
    const stale = staleEmulator(p);
    return { arch: p.arch, accel: p.accel, qemu: p.qemu, catalog: p.catalog, emulator: p.emulator.path, ...(stale ? { stale } : {}) };
  });
  const logPath = join(state, 'hook.log');
  const lines = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').filter(Boolean) : [];
  const entries = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return { unreadable: l.slice(0, 200) };
    }
  });
  return {
    installed: installed && present && ours,
    script: { path, present, executable, ours },
    ...(config ? { config } : {}),
    profiles,
    log: {
      path: logPath,
      entries: entries.length,
      refused: entries.filter((e) => e.action === 'refuse').length,
      failures: entries.filter((e) => e.schema === 'guestabi/hook-failure@1').length,
      last: entries.slice(-last),
    },
  };
}

function canRun(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
