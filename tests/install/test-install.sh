#!/bin/bash
# test-install.sh SOURCE_DIR : what `cmake --install` puts where, for a prefix
# given at configure time (/opt/x) and at install time (--prefix /usr,
# --prefix /usr/local). The systemd units must run the nsgate that was
# installed with them and read /etc/nsgate/nsgate.conf; the example
# configuration goes to PREFIX/share/doc/nsgate. Needs neither root nor a lab:
# a build of its own and every install go into one temporary directory (with
# DESTDIR), and nothing is written outside it.
set -euo pipefail
src=$(cd "${1:?usage: test-install.sh SOURCE_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

build=$tmp/build
cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX=/opt/x -DNSGATE_TESTS=OFF -DNSGATE_BENCH=OFF \
	>"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; echo "FAIL: configure" >&2; exit 1; }
cmake --build "$build" -j2 --target nsgate nsgate-cni >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; echo "FAIL: build" >&2; exit 1; }

# unit_execs UNIT : the unit's Exec*= lines, one a line.
unit_execs() { grep -E '^Exec[A-Za-z]*=' "$1"; }

# check_unit DEST PREFIX UNIT WANT... : the unit is in PREFIX/lib/systemd/system
# and its Exec*= lines are exactly WANT (in order).
check_unit() {
	local dest=$1 prefix=$2 unit=$3 got want
	shift 3
	local f=$dest$prefix/lib/systemd/system/$unit
	[ -f "$f" ] || { fail "prefix $prefix: no $prefix/lib/systemd/system/$unit"; return; }
	got=$(unit_execs "$f")
	want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] || fail "prefix $prefix: $unit runs
$got
  expected
$want"
	grep -q '@[A-Z_]*@' "$f" && fail "prefix $prefix: $unit has a placeholder left: $(grep '@[A-Z_]*@' "$f")"
	return 0
}

# verify_units DEST PREFIX : systemd-analyze verify, when this machine has it,
# with DEST as the root (its own copy of the system's units, which the ones
# here depend on): it checks the syntax and that ExecStart is executable.
verify_units() {
	local dest=$1 prefix=$2 out
	if ! command -v systemd-analyze >/dev/null || [ ! -e /usr/lib/systemd/system/sysinit.target ]; then
		echo "  (systemd-analyze or the system's units are not here: units not verified)"
		return 0
	fi
	mkdir -p "$dest/usr/lib/systemd"
	[ -e "$dest/usr/lib/systemd/system/sysinit.target" ] ||
		cp -a /usr/lib/systemd/system "$dest/usr/lib/systemd/"
	# systemd looks in /usr/lib/systemd/system and /usr/local/lib/systemd/system;
	# units of another prefix are linked into /etc/systemd/system (what
	# `systemctl link` does).
	case $prefix in
	/usr | /usr/local) ;;
	*)
		mkdir -p "$dest/etc/systemd/system"
		ln -srf "$dest$prefix"/lib/systemd/system/nsgate*.service "$dest/etc/systemd/system/" ;;
	esac
	if out=$(systemd-analyze verify --root="$dest" "$dest$prefix"/lib/systemd/system/nsgate*.service 2>&1); then
		echo "  systemd-analyze verify: ok"
	else
		fail "prefix $prefix: systemd-analyze verify: $out"
	fi
}

# check_install PREFIX [--prefix PREFIX] : install into a fresh DESTDIR and
# check every file's place.
check_install() {
	local prefix=$1 dest=$tmp/root${1//\//_} stray
	shift
	echo "== prefix $prefix (cmake --install ${*:-without --prefix})"
	DESTDIR=$dest cmake --install "$build" "$@" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; fail "prefix $prefix: cmake --install failed"; return; }
	[ -x "$dest$prefix/sbin/nsgate" ] || fail "prefix $prefix: no $prefix/sbin/nsgate"
	[ -f "$dest$prefix/share/man/man8/nsgate.8" ] || fail "prefix $prefix: no $prefix/share/man/man8/nsgate.8"
	cmp -s "$src/conf/nsgate.conf" "$dest$prefix/share/doc/nsgate/nsgate.conf.example" ||
		fail "prefix $prefix: $prefix/share/doc/nsgate/nsgate.conf.example is not conf/nsgate.conf"
	cmp -s "$src/conf/nsgate.bash-completion" "$dest$prefix/share/bash-completion/completions/nsgate" ||
		fail "prefix $prefix: $prefix/share/bash-completion/completions/nsgate is not conf/nsgate.bash-completion"
	check_unit "$dest" "$prefix" nsgate.service \
		"ExecStart=$prefix/sbin/nsgate apply /etc/nsgate/nsgate.conf" \
		"ExecReload=$prefix/sbin/nsgate apply /etc/nsgate/nsgate.conf" \
		"ExecStop=$prefix/sbin/nsgate down --all"
	check_unit "$dest" "$prefix" nsgate-watch.service "ExecStart=$prefix/sbin/nsgate watch"
	grep -qx 'ConditionPathExists=/etc/nsgate/nsgate.conf' "$dest$prefix/lib/systemd/system/nsgate.service" ||
		fail "prefix $prefix: nsgate.service does not wait for /etc/nsgate/nsgate.conf"
	# Nothing outside the prefix (no PREFIX/etc, no /usr/local for /usr).
	stray=$(cd "$dest" && find . -type f ! -path ".$prefix/*")
	[ -z "$stray" ] || fail "prefix $prefix: installed outside $prefix: $stray"
	# Every file installed is in the manifest (packagers and uninstall read
	# it), named without DESTDIR.
	for f in sbin/nsgate lib/systemd/system/nsgate.service lib/systemd/system/nsgate-watch.service \
		share/doc/nsgate/nsgate.conf.example share/bash-completion/completions/nsgate lib/cni/nsgate \
		share/man/man8/nsgate-cni.8 share/doc/nsgate/cni-nsgate.conflist; do
		grep -qx "$prefix/$f" "$build/install_manifest.txt" ||
			fail "prefix $prefix: $prefix/$f is not in install_manifest.txt"
	done
	verify_units "$dest" "$prefix"
}

check_install /opt/x
check_install /usr --prefix /usr
check_install /usr/local --prefix /usr/local

if [ "$failures" != 0 ]; then
	echo "test-install: $failures check(s) failed" >&2
	exit 1
fi
echo "test-install: PASSED"
