#!/bin/bash
# SPDX-License-Identifier: MIT
# test-package.sh: build the Debian package (dpkg-buildpackage -us -uc -b,
# in a copy of the tree, so the checkout stays clean), check it with lintian
# (no error; every warning overridden in debian/ with its reason), install
# it on this machine (apt, so its Depends are what apt installs), run the
# installed /usr/sbin/nsgate: `nsgate version`, then test-internet against
# it and test-cni against /usr/lib/cni/nsgate, and purge it: nothing of it
# left (binaries, units, /etc/nsgate).
# Needs root (apt, the lab) and the packages debhelper lintian (.ci/packages).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== package: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (apt-get install, the lab)"
for t in dpkg-buildpackage dh lintian apt-get; do
	command -v "$t" >/dev/null || fail "'$t' is missing: install .ci/packages (.ci/install-packages)"
done
dpkg -s nsgate >/dev/null 2>&1 && fail "a package nsgate is installed already: this test would replace it"

step "build"
# The tracked files and the working tree's changes to them, no build trees.
mkdir "$tmp/src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tmp/src") ||
	fail "copying the tree"
commit=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
(cd "$tmp/src" && DEB_BUILD_OPTIONS=parallel=$(nproc) NSGATE_COMMIT=$commit \
	dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1) || { tail -40 "$tmp/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$tmp"/nsgate_*_*.deb)
[ -f "$deb" ] || fail "no .deb built"
version=$(dpkg-deb -f "$deb" Version)
[ "$version" = "$(sed -n '1s/^nsgate (\([^)]*\)).*/\1/p' "$top/debian/changelog")" ] ||
	fail "package version $version is not debian/changelog's"

step "contents"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/sbin/nsgate /usr/share/man/man8/nsgate.8.gz /lib/systemd/system/nsgate.service \
	/lib/systemd/system/nsgate-watch.service /usr/share/bash-completion/completions/nsgate \
	/etc/nsgate/nsgate.conf /usr/lib/cni/nsgate /usr/share/man/man8/nsgate-cni.8.gz; do
	grep -qx "$f" <<<"$contents" || fail "$f is not in the package: $contents"
done
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/nsgate/nsgate.conf ] || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
dpkg-deb -x "$deb" "$tmp/x"
grep -qx 'ExecStart=/usr/sbin/nsgate apply /etc/nsgate/nsgate.conf' "$tmp/x/lib/systemd/system/nsgate.service" ||
	fail "nsgate.service does not run /usr/sbin/nsgate"
grep -qx 'ExecStart=/usr/sbin/nsgate watch' "$tmp/x/lib/systemd/system/nsgate-watch.service" ||
	fail "nsgate-watch.service does not run /usr/sbin/nsgate"
# Shipped as a valid example that configures nothing: apply of it is a no-op.
grep -q '^\[' "$tmp/x/etc/nsgate/nsgate.conf" && fail "the conffile declares a gateway"

step "lintian"
lintian --fail-on error --no-tag-display-limit "$deb" >"$tmp/lintian.log" 2>&1 ||
	{ cat "$tmp/lintian.log"; fail "lintian reports errors"; }
if grep -q '^W:' "$tmp/lintian.log"; then
	cat "$tmp/lintian.log"
	fail "lintian warnings not overridden in debian/nsgate.lintian-overrides"
fi

step "install"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; fail "apt-get install"; }
[ "$(dpkg-query -W -f '${Status}' nsgate)" = "install ok installed" ] || fail "not installed"
# In a network namespace of its own: its nftables probes (batches the
# kernel checks, never applies) stay out of the machine's.
out=$(unshare --net /usr/sbin/nsgate version) || fail "/usr/sbin/nsgate version failed: $out"
echo "$out"
grep -q "^nsgate ${version%%-*} (commit $commit) kernel " <<<"$out" || fail "nsgate version: '$out'"
grep -q ' +nf_tables' <<<"$out" || fail "the installed nsgate finds no nf_tables: $out"
# Not enabled, not started (debian/rules says why).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	systemctl is-enabled nsgate.service >/dev/null 2>&1 && fail "nsgate.service is enabled by the install"
fi

step "lab tests against /usr/sbin/nsgate"
NSGATE=/usr/sbin/nsgate bash "$top/tests/lab/lab.sh" "$top/tests/lab/test-internet.sh" || fail "test-internet against the package"
NSGATE=/usr/sbin/nsgate NSGATE_CNI=/usr/lib/cni/nsgate bash "$top/tests/lab/lab.sh" "$top/tests/lab/test-cni.sh" ||
	fail "test-cni against the package's /usr/lib/cni/nsgate"
# The shipped conffile is valid and configures nothing (inside a lab too:
# nothing here runs nsgate in the machine's own network namespace).
cat >"$tmp/test-conffile.sh" <<'LAB'
expect_exit 0 nsg apply /etc/nsgate/nsgate.conf
[ -z "$(nft list ruleset)" ] || fail "apply of the shipped conffile made nftables state: $(nft list ruleset)"
assert_no_residue
pass "apply /etc/nsgate/nsgate.conf (as shipped): valid, changes nothing"
LAB
NSGATE=/usr/sbin/nsgate bash "$top/tests/lab/lab.sh" "$tmp/test-conffile.sh" || fail "the shipped conffile"

step "purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq nsgate >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; fail "apt-get purge"; }
for f in /usr/sbin/nsgate /etc/nsgate /lib/systemd/system/nsgate.service /usr/share/bash-completion/completions/nsgate \
	/usr/lib/cni/nsgate; do
	[ ! -e "$f" ] || fail "$f is left after purge"
done
echo "PASS: package $version: built, lintian clean, installed, nsgate version, test-internet and test-cni ran against it, purged"
