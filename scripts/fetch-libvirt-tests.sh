#!/usr/bin/env bash
# Fetch libvirt's own test corpus (issue 16) from Debian 12's source package of libvirt 9.0, the
# libvirt Debian 12 runs, into a cache folder. Only the test data is extracted; nothing is installed
# and nothing of it is committed.
#
#   scripts/fetch-libvirt-tests.sh            # into $GUESTABI_LIBVIRT_TESTS (default ~/.cache/guestabi/libvirt-tests)
#
# What lands in $GUESTABI_LIBVIRT_TESTS/9.0.0/tests/:
#   qemuxml2argvdata/       NAME.xml and NAME.x86_64-latest.args (the QEMU command line libvirt makes)
#   qemuxml2xmloutdata/     the domains as libvirt formats them back
#   qemucapabilitiesdata/   caps_5.2.0.x86_64.* and caps_7.2.0.x86_64.* (QMP replies and derived XML)
#   cputestdata/            the x86 CPU map tests (not used yet; small)
# and SOURCE says which package it came from. Like scripts/fetch-qemu.sh, the Debian suite comes
# through a private apt configuration (deb-src of bookworm) that this machine's apt never sees.
set -euo pipefail

CACHE=${GUESTABI_LIBVIRT_TESTS:-$HOME/.cache/guestabi/libvirt-tests}
VERSION=9.0.0
DEST=$CACHE/$VERSION
die() { echo "fetch-libvirt-tests: $*" >&2; exit 2; }
log() { echo "fetch-libvirt-tests: $*" >&2; }

if [ -f "$DEST/SOURCE" ] && [ -d "$DEST/tests/qemuxml2argvdata" ]; then
  log "already there: $DEST ($(cat "$DEST/SOURCE"))"
  exit 0
fi
command -v apt-get >/dev/null || die "apt-get is needed (Debian)"

mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
[ -n "$mirror" ] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | grep debian | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
APT_DIR=$CACHE/apt
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$CACHE/download"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" > "$APT_DIR/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache"
          -o APT::Sandbox::User=root -o Debug::NoLocking=1)
log "updating the private apt lists (deb-src bookworm) from $mirror"
apt-get "${APT_OPTS[@]}" -q update >&2 || die "apt-get update of the private lists failed"
# apt-get source checks each file against the signed Sources index before keeping it.
(cd "$CACHE/download" && apt-get "${APT_OPTS[@]}" -q source --download-only "libvirt=$VERSION-*" >&2 2>/dev/null) ||
  (cd "$CACHE/download" && apt-get "${APT_OPTS[@]}" -q source --download-only libvirt >&2) || die "apt-get source libvirt failed"
orig=$(ls "$CACHE/download"/libvirt_"$VERSION".orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n1)
dsc=$(ls "$CACHE/download"/libvirt_"$VERSION"-*.dsc 2>/dev/null | head -n1)
[ -n "$orig" ] && [ -n "$dsc" ] || die "Debian's bookworm no longer has libvirt $VERSION (got: $(ls "$CACHE/download"))"

tmp=$(mktemp -d "$CACHE/extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xf "$orig" -C "$tmp" --wildcards \
  "libvirt-$VERSION/tests/qemuxml2argvdata/*" \
  "libvirt-$VERSION/tests/qemuxml2xmloutdata/*" \
  "libvirt-$VERSION/tests/qemucapabilitiesdata/caps_5.2.0.x86_64.*" \
  "libvirt-$VERSION/tests/qemucapabilitiesdata/caps_7.2.0.x86_64.*" \
  "libvirt-$VERSION/tests/cputestdata/x86_64-*" || die "extracting the test data from $orig failed"
rm -rf "$DEST" && mkdir -p "$DEST"
mv "$tmp/libvirt-$VERSION/tests" "$DEST/tests"
echo "$(basename "$dsc" .dsc) (Debian bookworm source package, $(basename "$orig"))" > "$DEST/SOURCE"
log "libvirt $VERSION test data in $DEST/tests: $(ls "$DEST/tests/qemuxml2argvdata" | grep -c '\.x86_64-latest\.args$') x86_64 pairs"
