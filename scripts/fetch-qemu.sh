#!/usr/bin/env bash
# Fetch QEMU builds from Debian packages into a cache folder, side by side,
# without installing any other Debian suite system-wide.
#
#   scripts/fetch-qemu.sh [--arch x86_64|ppc64|aarch64|all] 5.2|7.2|10.0|all [...]
#
# --arch defaults to x86_64 (qemu-system-x86). ppc64 is Debian's qemu-system-ppc (qemu-system-ppc64,
# pseries with SLOF), aarch64 is qemu-system-arm (qemu-system-aarch64). A comma-separated list works too.
#
# Each build lands in $GUESTABI_QEMU_CACHE/<version>/ (default ~/.cache/guestabi/qemu) with a manifest
# that guestabi's launcher reads: build.json for x86_64, build.ppc64.json and build.aarch64.json for the
# others (these also say "arch"). A manifest names the binary, the firmware/data folders to pass with -L,
# the module folder to bind-mount over the compiled-in module path, and the private library folder for
# LD_LIBRARY_PATH. Extracted packages live in root/ (x86_64), root-ppc64/ and root-aarch64/, each with
# its package list (packages, packages-ppc64, packages-aarch64): a re-run downloads nothing that is there.
#
# 7.2 is Debian 12's own qemu-system-x86/-ppc/-arm (installed with apt-get when missing and run as root).
# 5.2 comes from bullseye with bullseye's liburing1 (and, for x86, Xen 4.14 libraries and seabios) beside it.
# 10.0.2 comes from bookworm-backports and runs on Debian 12's libraries.
#
# Firmware: SLOF (slof.bin, what pseries loads at startup) is inside qemu-system-data in bullseye, bookworm
# and bookworm-backports, which all list "Provides: qemu-slof" and have no real qemu-slof package; the script
# checks that slof.bin is there. aarch64's -machine virt starts without firmware (no -bios: an empty flash),
# so EDK2 (qemu-efi-aarch64) is not fetched.
set -euo pipefail

CACHE=${GUESTABI_QEMU_CACHE:-$HOME/.cache/guestabi/qemu}
ARCH_TRIPLET=x86_64-linux-gnu
MODULE_PATH=/usr/lib/$ARCH_TRIPLET/qemu   # compiled into every Debian QEMU build (host triplet, any target)

die() { echo "fetch-qemu: $*" >&2; exit 2; }
log() { echo "fetch-qemu: $*" >&2; }
usage() { echo "usage: $0 [--arch x86_64|ppc64|aarch64|all] 5.2|7.2|10.0|all [...]"; }

# Per architecture: the Debian package, the binary, and where its files go in a version's folder.
arch_package() { case $1 in x86_64) echo qemu-system-x86;; ppc64) echo qemu-system-ppc;; aarch64) echo qemu-system-arm;; esac; }
arch_binary() { echo "qemu-system-$1"; }
arch_root() { if [ "$1" = x86_64 ]; then echo "$2/root"; else echo "$2/root-$1"; fi; }
arch_packages_file() { if [ "$1" = x86_64 ]; then echo "$2/packages"; else echo "$2/packages-$1"; fi; }
arch_manifest() { if [ "$1" = x86_64 ]; then echo "$2/build.json"; else echo "$2/build.$1.json"; fi; }
# What a -S start of a machine of the arch needs to prove (its firmware is found): the machine type.
arch_machine() { case $1 in ppc64) echo pseries;; aarch64) echo virt;; esac; }

ARCHES=(x86_64)
VERSIONS=()
set_arches() {
  local a list=()
  for a in ${1//,/ }; do
    case "$a" in
      x86_64|ppc64|aarch64) list+=("$a") ;;
      all) list+=(x86_64 ppc64 aarch64) ;;
      *) die "unknown architecture '$a' (known: x86_64, ppc64, aarch64, all)" ;;
    esac
  done
  [ ${#list[@]} -gt 0 ] || die "--arch needs a value: x86_64, ppc64, aarch64 or all"
  ARCHES=("${list[@]}")
}
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) [ $# -ge 2 ] || die "--arch needs a value: x86_64, ppc64, aarch64 or all"; set_arches "$2"; shift 2 ;;
    --arch=*) set_arches "${1#--arch=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' ($(usage))" ;;
    *) VERSIONS+=("$1"); shift ;;
  esac
done
[ ${#VERSIONS[@]} -ge 1 ] || die "$(usage)"

# The mirror that this machine's own apt already uses (deb822 or one-line format).
debian_mirror() {
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
  [ -n "$uri" ] || uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | grep debian | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

APT_DIR=$CACHE/apt
apt_private() {
  local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mirror=$(debian_mirror)
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  cat > "$APT_DIR/sources.list" <<SRC
deb [signed-by=$keyring] $mirror bullseye main
deb [signed-by=$keyring] $mirror bookworm-backports main
SRC
  APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache"
            -o APT::Sandbox::User=root -o Debug::NoLocking=1)
  if [ ! -f "$APT_DIR/lists/.updated" ] || [ -n "$(find "$APT_DIR/lists/.updated" -mmin +1440)" ]; then
    log "updating the private apt lists (bullseye, bookworm-backports) from $mirror"
    apt-get "${APT_OPTS[@]}" -q update >&2 || die "apt-get update of the private lists failed"
    touch "$APT_DIR/lists/.updated"
  fi
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# Whether file $1 has the checksum $2 ("SHA256:hex" or "SHA512:hex", as apt prints it).
has_checksum() {
  case "$2" in
    SHA256:*) [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "${2#SHA256:}" ] ;;
    SHA512:*) [ "$(sha512sum < "$1" | cut -d' ' -f1)" = "${2#SHA512:}" ] ;;
    *) return 1 ;;
  esac
}

# Download packages (name=version or name/suite) and extract them into $1. A package that a sibling
# build of the same version already downloaded (the same file, checked against apt's checksum) is
# linked from there instead of being downloaded again.
fetch_into() {
  local root=$1; shift
  local dl=$root.debs uris uri file size sum seed got=0 reused=0 files=()
  rm -rf "$dl" && mkdir -p "$dl"
  uris=$(cd "$dl" && apt-get "${APT_OPTS[@]}" -q --print-uris download "$@") || die "apt-get cannot find: $*"
  while read -r uri file size sum; do
    [ -n "$file" ] || continue
    files+=("$file")
    for seed in "$(dirname "$root")"/*.debs/"$file"; do
      if [ -f "$seed" ] && has_checksum "$seed" "$sum"; then
        ln "$seed" "$dl/$file" 2>/dev/null || cp "$seed" "$dl/$file"
        reused=$((reused + size))
        continue 2
      fi
    done
    got=$((got + size))
  done <<< "$uris"
  log "downloading $(mib $got) MiB (reusing $(mib $reused) MiB already in $(dirname "$root"))"
  (cd "$dl" && apt-get "${APT_OPTS[@]}" -q download "$@" >&2) || die "apt-get download failed for: $*"
  mkdir -p "$root"
  for file in "${files[@]}"; do
    [ -f "$dl/$file" ] || die "apt-get did not download $file"
    dpkg -x "$dl/$file" "$root"
  done
}

# Install, from this machine's own suite, the shared libraries an extracted build (its binary $3 and
# its modules) needs and that are missing; other suites' libraries stay beside the build.
missing_libraries() {
  local root=$1 libpath=$2 bin=$3 f
  for f in "$root/usr/bin/$bin" "$root$MODULE_PATH"/*.so; do
    [ -e "$f" ] || continue
    LD_LIBRARY_PATH=$libpath ldd "$f" 2>/dev/null | awk '/not found/{print $1}'
  done | sort -u
}

installed_version() { # package: its version when installed, else nothing
  [ "$(dpkg-query -W -f '${Status}' "$1" 2>/dev/null)" = "install ok installed" ] && dpkg-query -W -f '${Version}' "$1"
  return 0
}

ensure_libraries() {
  local root=$1 libpath=$2 bin=$3 missing
  missing=$(missing_libraries "$root" "$libpath" "$bin")
  [ -z "$missing" ] && return 0
  local pkgs=() deps deb p beside=" "
  for deb in "$root".debs/*.deb; do beside+="$(dpkg-deb -f "$deb" Package) "; done
  for deb in "$root".debs/*.deb; do
    deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/ //g' | grep -E '^lib' || true)
    for p in $deps; do
      case "$beside" in *" $p "*) continue ;; esac           # another suite's library, kept beside the build
      [ -n "$(installed_version "$p")" ] && continue
      apt-cache show "$p" >/dev/null 2>&1 || continue         # not in Debian 12: nothing to install
      case " ${pkgs[*]} " in *" $p "*) ;; *) pkgs+=("$p") ;; esac
    done
  done
  if [ ${#pkgs[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    log "installing missing libraries from Debian 12: ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2 || true
  fi
  missing=$(missing_libraries "$root" "$libpath" "$bin")
  [ -z "$missing" ] || die "QEMU in $root still misses libraries: $(echo $missing) (install them with apt-get)"
}

# Write a manifest; an unchanged one is left alone (running jobs read them).
write_manifest() { # file arch version package binary moduleDir libraryPath dataDirs...
  local file=$1 arch=$2 version=$3 package=$4 binary=$5 moddir=$6 libpath=$7; shift 7
  local data="" d tmp=$file.tmp.$$
  for d in "$@"; do data+="${data:+, }\"$d\""; done
  json_or_null() { if [ -n "$1" ]; then printf '"%s"' "$1"; else printf null; fi; }
  {
    echo "{"
    echo "  \"version\": \"$version\","
    [ "$arch" = x86_64 ] || echo "  \"arch\": \"$arch\","
    echo "  \"package\": \"$package\","
    echo "  \"binary\": \"$binary\","
    echo "  \"dataDirs\": [$data],"
    echo "  \"moduleDir\": $(json_or_null "$moddir"),"
    echo "  \"libraryPath\": $(json_or_null "$libpath")"
    echo "}"
  } > "$tmp"
  if cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file"; log "wrote $file"; fi
}

# The command that runs a build the way guestabi will: BUILT_CMD (argv) and BUILT_LIBPATH.
built_command() {
  local manifest=$1 bin moddir
  bin=$(sed -n 's/.*"binary": "\(.*\)".*/\1/p' "$manifest")
  moddir=$(sed -n 's/.*"moduleDir": "\(.*\)".*/\1/p' "$manifest")
  BUILT_LIBPATH=$(sed -n 's/.*"libraryPath": "\(.*\)".*/\1/p' "$manifest")
  if [ -n "$moddir" ] && [ -d "$MODULE_PATH" ]; then
    local ns=(unshare -m --propagation private)
    [ "$(id -u)" = 0 ] || ns=(unshare -r -m --propagation private)
    BUILT_CMD=("${ns[@]}" sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$moddir" "$MODULE_PATH" "$bin")
  else
    BUILT_CMD=("$bin")
  fi
}

run_built() { # manifest args...
  local manifest=$1; shift
  built_command "$manifest"
  LD_LIBRARY_PATH=$BUILT_LIBPATH timeout 120 "${BUILT_CMD[@]}" "$@"
}

# Run the build, check its version, and for ppc64/aarch64 start a machine (-S, TCG) and quit it over QMP:
# pseries stops at startup when it cannot find SLOF.
verify() { # manifest arch want
  local manifest=$1 arch=$2 want=$3 out machine
  out=$(run_built "$manifest" -version 2>&1 | head -n1) || die "the $want $arch build of $manifest does not start: $out"
  case "$out" in *"version $want"*) log "ok: $arch: $out";; *) die "expected QEMU $want in $manifest, got: $out";; esac
  [ "$arch" = x86_64 ] && return 0
  machine=$(arch_machine "$arch")
  out=$(printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "quit"}' |
        run_built "$manifest" -machine "$machine" -nodefaults -display none -S -accel tcg -qmp stdio 2>&1) ||
    die "QEMU $want $arch does not start -machine $machine: $out"
  [ "$(grep -c '"return": {}' <<< "$out")" -ge 2 ] || die "QEMU $want $arch -machine $machine did not answer quit: $out"
  log "ok: $arch: -machine $machine starts and quits over QMP$(grep -q warning <<< "$out" && printf ' (%s)' "$(grep warning <<< "$out" | sed 's/^[^:]*: //' | paste -sd';' -)")"
}

# The firmware a machine of the arch loads at startup must be in one of these folders.
require_firmware() { # arch dirs...
  local arch=$1 d; shift
  [ "$arch" = ppc64 ] || return 0
  for d in "$@"; do [ -f "$d/slof.bin" ] && return 0; done
  die "no SLOF (slof.bin) in $*: pseries cannot start (look for it with dpkg -c in qemu-system-data, qemu-system-ppc or qemu-slof)"
}

fetch_72() { # arch
  local arch=$1 dir=$CACHE/7.2 pkg bin
  pkg=$(arch_package "$arch")
  bin=$(arch_binary "$arch")
  if ! command -v "$bin" >/dev/null || ! "$bin" -version | grep -q 'version 7\.2'; then
    [ "$(id -u)" = 0 ] || die "QEMU 7.2 is Debian 12's $pkg: run 'apt-get install -y $pkg' as root"
    if [ "$arch" = x86_64 ]; then
      log "installing Debian 12's qemu-system-x86"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-system-x86 >&2 || die "apt-get install qemu-system-x86 failed"
    else
      # The same build as the installed qemu-system-common (which the x86 7.2 build shares), so that apt
      # upgrades nothing under running jobs; no recommends (qemu-efi-*: -machine virt starts without them).
      local spec=$pkg common
      common=$(installed_version qemu-system-common)
      [ -z "$common" ] || spec=$pkg=$common
      log "installing Debian 12's $spec"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$spec" >&2 ||
        die "apt-get install $spec failed (it must be the version of the installed qemu-system-common)"
    fi
  fi
  mkdir -p "$dir"
  local version
  version=$(dpkg-query -W -f '${Version}' "$pkg")
  require_firmware "$arch" /usr/share/qemu
  write_manifest "$(arch_manifest "$arch" "$dir")" "$arch" 7.2 "Debian 1:${version#1:}" "$(command -v "$bin")" "" ""
  verify "$(arch_manifest "$arch" "$dir")" "$arch" 7.2
}

# Download and unpack the package set $3 for arch $2 into its root in $1, unless it is there already.
fetch_package_set() { # dir arch packages description
  local dir=$1 arch=$2 pkgs=$3 root list
  root=$(arch_root "$arch" "$dir")
  list=$(arch_packages_file "$arch" "$dir")
  [ -x "$root/usr/bin/$(arch_binary "$arch")" ] && [ "$(cat "$list" 2>/dev/null)" = "$pkgs" ] && return 0
  apt_private
  rm -rf "$root" "$root.debs" "$list" "$(arch_manifest "$arch" "$dir")"
  mkdir -p "$dir"
  log "fetching $4"
  # shellcheck disable=SC2086
  fetch_into "$root" $pkgs
  echo "$pkgs" > "$list"
}

# An extracted build: its package set, its own (maybe empty) module folder, libraries, manifest, check.
fetch_extracted() { # dir arch want debian-version private-libs(yes|no) packages
  local dir=$1 arch=$2 want=$3 v=$4 private=$5 pkgs=$6 r bin libpath="" data=()
  r=$(arch_root "$arch" "$dir")
  bin=$(arch_binary "$arch")
  fetch_package_set "$dir" "$arch" "$pkgs" "QEMU $v ($(arch_package "$arch"))"
  mkdir -p "$r$MODULE_PATH"   # packages without modules: an empty folder hides the system's 7.2 ones
  [ "$private" = no ] || libpath=$r/usr/lib/$ARCH_TRIPLET
  ensure_libraries "$r" "$libpath" "$bin"
  [ "$arch" = x86_64 ] && data+=("$r/usr/share/seabios")
  data+=("$r/usr/share/qemu")
  require_firmware "$arch" "${data[@]}"
  write_manifest "$(arch_manifest "$arch" "$dir")" "$arch" "$want" "Debian $v" "$r/usr/bin/$bin" "$r$MODULE_PATH" "$libpath" "${data[@]}"
  verify "$(arch_manifest "$arch" "$dir")" "$arch" "$want"
}

fetch_52() { # arch
  local arch=$1 v=1:5.2+dfsg-11+deb11u3 pkgs
  if [ "$arch" = x86_64 ]; then
    pkgs="qemu-system-x86=$v qemu-system-common=$v qemu-system-data=$v liburing1/bullseye seabios/bullseye libxenmisc4.14/bullseye libxenstore3.0/bullseye libxendevicemodel1/bullseye libxenevtchn1/bullseye libxenforeignmemory1/bullseye libxengnttab1/bullseye libxentoolcore1/bullseye libxencall1/bullseye libxentoollog1/bullseye libxenhypfs1/bullseye"
  else
    pkgs="$(arch_package "$arch")=$v qemu-system-common=$v qemu-system-data=$v liburing1/bullseye"
  fi
  fetch_extracted "$CACHE/5.2" "$arch" 5.2 "$v" yes "$pkgs"
}

fetch_100() { # arch
  local arch=$1 v=1:10.0.2+ds-2+deb13u1~bpo12+1 pkgs
  pkgs="$(arch_package "$arch")=$v qemu-system-common=$v qemu-system-data=$v qemu-system-gui=$v qemu-system-modules-opengl=$v qemu-system-modules-spice=$v"
  [ "$arch" = x86_64 ] && pkgs+=" seabios/bookworm-backports"
  fetch_extracted "$CACHE/10.0" "$arch" 10.0.2 "$v" no "$pkgs"
}

todo=()
for want in "${VERSIONS[@]}"; do
  case "$want" in
    5.2|5.2.0) todo+=(52) ;;
    7.2|7.2.*) todo+=(72) ;;
    10.0|10.0.2) todo+=(100) ;;
    all) todo+=(52 72 100) ;;
    *) die "unknown QEMU version '$want' (known: 5.2, 7.2, 10.0)" ;;
  esac
done
for v in "${todo[@]}"; do
  for arch in "${ARCHES[@]}"; do "fetch_$v" "$arch"; done
done
echo "$CACHE"
