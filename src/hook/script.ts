/** The marker every script guestabi installs carries: uninstall removes only a file that has it. */
export const HOOK_MARKER = '# guestabi libvirt hook';

/** Exit code of `guestabi hook run` that means "refuse"; the script turns it into libvirt's 1. */
export const REFUSE_EXIT = 3;

export interface HookScriptInput {
  node: string;
  guestabi: string;
  state: string;
  timeoutSeconds: number;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The script libvirt runs (/etc/libvirt/hooks/qemu.d/guestabi): libvirt calls every executable
 * there as `NAME DOMAIN OPERATION SUB-OPERATION EXTRA` with the domain XML on stdin, and a
 * non-zero exit fails the operation with the script's stderr in the error (src/util/virhook.c
 * virHookCall(), virRunScript(); src/qemu/qemu_migration.c qemuMigrationDstPrepareAny() for
 * `migrate begin`, src/qemu/qemu_process.c qemuProcessStartHook() for `prepare begin`). Its stdout
 * on `migrate` would replace the domain XML, so nothing is ever written there.
 * It never blocks libvirt on its own failure: only guestabi's refusal (exit 3) becomes exit 1; a
 * timeout, a crash or a missing node lets libvirt proceed, and the log (and syslog) says why.
 */
export function hookScript(i: HookScriptInput): string {
  const log = `${i.state}/hook.log`;
  return `#!/bin/sh
${HOOK_MARKER}: installed by \`guestabi hook install\`, removed by \`guestabi hook uninstall\`.
# libvirt runs it as: guestabi DOMAIN OPERATION SUB-OPERATION EXTRA, the domain XML on stdin.
# It refuses (exit 1, the reason on stderr) an incoming migration this host cannot give exactly and
# logs what a start finds; a timeout, a crash or a missing node lets libvirt proceed (logged).
case "$2 $3" in
  "migrate begin"|"prepare begin") ;;
  *) exit 0 ;;
esac
err=$(timeout -k 1 ${i.timeoutSeconds} ${q(i.node)} ${q(i.guestabi)} hook run --state ${q(i.state)} -- "$@" 2>&1 >/dev/null)
rc=$?
case $rc in
  0) exit 0 ;;
  ${REFUSE_EXIT}) printf '%s\\n' "$err" >&2; exit 1 ;;
  124|137) why="guestabi did not decide within ${i.timeoutSeconds} s" ;;
  *) why="guestabi failed (exit $rc)" ;;
esac
clean() { printf '%s' "$1" | tr '\\n\\t"\\\\' '    ' | cut -c1-1000; }
detail=$(clean "$err")
printf '{"schema":"guestabi/hook-failure@1","at":"%s","domain":"%s","operation":"%s %s","why":"%s; libvirt proceeds","detail":"%s"}\\n' \\
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(clean "$1")" "$(clean "$2")" "$(clean "$3")" "$why" "$detail" >> ${q(log)} 2>/dev/null
command -v logger >/dev/null 2>&1 && logger -t guestabi-hook "$1 $2 $3: $why; libvirt proceeds: $detail"
exit 0
`;
}
