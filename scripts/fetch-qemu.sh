#!/usr/bin/env bash
# Fetch QEMU x86_64 builds from Debian packages into a cache folder, side by side,
# without installing any other Debian suite system-wide.
#
#   scripts/fetch-qemu.sh 5.2|7.2|10.0 [...]     (or: all)
#
# Each build lands in $GUESTABI_QEMU_CACHE/<version>/ (default ~/.cache/guestabi/qemu)
# with a build.json manifest that guestabi's launcher reads: the binary, the firmware/data
# folders to pass with -L, the module folder to bind-mount over the compiled-in module path,
# and the private library folder for LD_LIBRARY_PATH.
#
# 7.2 is Debian 12's own qemu-system-x86 (installed with apt-get when missing and run as root).
# 5.2 comes from bullseye with bullseye's liburing1, Xen 4.14 libraries and seabios beside it.
# 10.0.2 comes from bookworm-backports and runs on Debian 12's libraries.
set -euo pipefail

CACHE=${GUESTABI_QEMU_CACHE:-$HOME/.cache/guestabi/qemu}
ARCH_TRIPLET=x86_64-linux-gnu
MODULE_PATH=/usr/lib/$ARCH_TRIPLET/qemu   # compiled into every Debian QEMU build

die() { echo "fetch-qemu: $*" >&2; exit 2; }
log() { echo "fetch-qemu: $*" >&2; }

[ $# -ge 1 ] || die "usage: $0 5.2|7.2|10.0|all [...]"

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

# Download packages (name=version or name/suite) and extract them into $1.
fetch_into() {
  local root=$1; shift
  local dl=$root.debs
  rm -rf "$dl" && mkdir -p "$dl"
  (cd "$dl" && apt-get "${APT_OPTS[@]}" -q download "$@" >&2) || die "apt-get download failed for: $*"
  mkdir -p "$root"
  for deb in "$dl"/*.deb; do dpkg -x "$deb" "$root"; done
}

# Install, from this machine's own suite, the shared libraries an extracted build (its binary and
# its modules) needs and that are missing; other suites' libraries stay beside the build.
missing_libraries() {
  local root=$1 libpath=$2 f
  for f in "$root/usr/bin/qemu-system-x86_64" "$root$MODULE_PATH"/*.so; do
    [ -e "$f" ] || continue
    LD_LIBRARY_PATH=$libpath ldd "$f" 2>/dev/null | awk '/not found/{print $1}'
  done | sort -u
}

ensure_libraries() {
  local root=$1 libpath=$2 missing
  missing=$(missing_libraries "$root" "$libpath")
  [ -z "$missing" ] && return 0
  local pkgs=() deps deb p
  for deb in "$root".debs/*.deb; do
    deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/ //g' | grep -E '^lib' || true)
    for p in $deps; do dpkg -s "$p" >/dev/null 2>&1 || pkgs+=("$p"); done
  done
  if [ ${#pkgs[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    log "installing missing libraries from Debian 12: ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2 || true
  fi
  missing=$(missing_libraries "$root" "$libpath")
  [ -z "$missing" ] || die "QEMU in $root still misses libraries: $(echo $missing) (install them with apt-get)"
}

write_manifest() { # dir version package binary moduleDir libraryPath dataDirs...
  local dir=$1 version=$2 package=$3 binary=$4 moddir=$5 libpath=$6; shift 6
  local data="" d
  for d in "$@"; do data+="${data:+, }\"$d\""; done
  json_or_null() { if [ -n "$1" ]; then printf '"%s"' "$1"; else printf null; fi; }
  cat > "$dir/build.json" <<JSON
{
  "version": "$version",
  "package": "$package",
  "binary": "$binary",
  "dataDirs": [$data],
  "moduleDir": $(json_or_null "$moddir"),
  "libraryPath": $(json_or_null "$libpath")
}
JSON
}

# Run the extracted binary the way guestabi will, and check its version.
verify() {
  local dir=$1 want=$2 out
  out=$(run_built "$dir" -version 2>&1 | head -n1) || die "the $want build in $dir does not start: $out"
  case "$out" in *"version $want"*) log "ok: $out";; *) die "expected QEMU $want in $dir, got: $out";; esac
}

run_built() {
  local dir=$1; shift
  local bin moddir libpath
  bin=$(sed -n 's/.*"binary": "\(.*\)".*/\1/p' "$dir/build.json")
  moddir=$(sed -n 's/.*"moduleDir": "\(.*\)".*/\1/p' "$dir/build.json")
  libpath=$(sed -n 's/.*"libraryPath": "\(.*\)".*/\1/p' "$dir/build.json")
  if [ -n "$moddir" ] && [ -d "$MODULE_PATH" ]; then
    local ns=(unshare -m --propagation private)
    [ "$(id -u)" = 0 ] || ns=(unshare -r -m --propagation private)
    LD_LIBRARY_PATH=$libpath "${ns[@]}" sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$moddir" "$MODULE_PATH" "$bin" "$@"
  else
    LD_LIBRARY_PATH=$libpath "$bin" "$@"
  fi
}

fetch_72() {
  local dir=$CACHE/7.2
  if ! command -v qemu-system-x86_64 >/dev/null || ! qemu-system-x86_64 -version | grep -q 'version 7\.2'; then
    [ "$(id -u)" = 0 ] || die "QEMU 7.2 is Debian 12's qemu-system-x86: run 'apt-get install -y qemu-system-x86' as root"
    log "installing Debian 12's qemu-system-x86"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-system-x86 >&2 || die "apt-get install qemu-system-x86 failed"
  fi
  mkdir -p "$dir"
  local pkg
  pkg=$(dpkg-query -W -f '${Version}' qemu-system-x86)
  write_manifest "$dir" 7.2 "Debian 1:${pkg#1:}" "$(command -v qemu-system-x86_64)" "" ""
  verify "$dir" 7.2
}

# Whether $1 holds exactly the package set $2 (re-fetch when the list changes).
have_packages() { [ -x "$1/root/usr/bin/qemu-system-x86_64" ] && [ "$(cat "$1/packages" 2>/dev/null)" = "$2" ]; }

# Download and unpack the package set $2 into $1/root, unless it is there already.
fetch_package_set() {
  local dir=$1 pkgs=$2
  have_packages "$dir" "$pkgs" && return 0
  apt_private
  rm -rf "$dir" && mkdir -p "$dir"
  log "downloading $3"
  # shellcheck disable=SC2086
  fetch_into "$dir/root" $pkgs
  echo "$pkgs" > "$dir/packages"
}

fetch_52() {
  local dir=$CACHE/5.2 v=1:5.2+dfsg-11+deb11u3
  local pkgs="qemu-system-x86=$v qemu-system-common=$v qemu-system-data=$v liburing1/bullseye seabios/bullseye libxenmisc4.14/bullseye libxenstore3.0/bullseye libxendevicemodel1/bullseye libxenevtchn1/bullseye libxenforeignmemory1/bullseye libxengnttab1/bullseye libxentoolcore1/bullseye libxencall1/bullseye libxentoollog1/bullseye libxenhypfs1/bullseye"
  fetch_package_set "$dir" "$pkgs" "QEMU $v and its bullseye libraries"
  local r=$dir/root
  mkdir -p "$r$MODULE_PATH"   # 5.2's x86 packages ship no modules: an empty folder hides the system's 7.2 ones
  ensure_libraries "$r" "$r/usr/lib/$ARCH_TRIPLET"
  write_manifest "$dir" 5.2 "Debian $v" "$r/usr/bin/qemu-system-x86_64" "$r$MODULE_PATH" "$r/usr/lib/$ARCH_TRIPLET" \
    "$r/usr/share/seabios" "$r/usr/share/qemu"
  verify "$dir" 5.2
}

fetch_100() {
  local dir=$CACHE/10.0 v=1:10.0.2+ds-2+deb13u1~bpo12+1
  local pkgs="qemu-system-x86=$v qemu-system-common=$v qemu-system-data=$v qemu-system-gui=$v qemu-system-modules-opengl=$v qemu-system-modules-spice=$v seabios/bookworm-backports"
  fetch_package_set "$dir" "$pkgs" "QEMU $v"
  local r=$dir/root
  mkdir -p "$r$MODULE_PATH"
  ensure_libraries "$r" ""
  write_manifest "$dir" 10.0.2 "Debian $v" "$r/usr/bin/qemu-system-x86_64" "$r$MODULE_PATH" "" \
    "$r/usr/share/seabios" "$r/usr/share/qemu"
  verify "$dir" 10.0.2
}

for want in "$@"; do
  case "$want" in
    5.2|5.2.0) fetch_52 ;;
    7.2|7.2.*) fetch_72 ;;
    10.0|10.0.2) fetch_100 ;;
    all) fetch_52; fetch_72; fetch_100 ;;
    *) die "unknown QEMU version '$want' (known: 5.2, 7.2, 10.0)" ;;
  esac
done
echo "$CACHE"
