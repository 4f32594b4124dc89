# SPDX-License-Identifier: MIT
# test-kill-apply.sh: SIGKILL `nsgate apply --prune` at each of its kill
# points (killpoints.sh), then `nsgate gc`. The file creates gateway a,
# changes b in place (uplink any -> up0, published port 8080 -> 8081) and,
# with --prune, removes c. After the kill and gc every gateway is fully up
# (in its old or its new form) or fully gone, its ports are what its ports
# file lists, no temporary file is left; apply run again then converges
# (issue 11 item 2: it must not fail for good), and everything goes without
# residue.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
# shellcheck source=tests/lab/killpoints.sh
. "$LAB_DIR/killpoints.sh"

CONF=$LAB_TMP/kill-apply.conf
cat >"$CONF" <<'CONF'
[a]
publish = 7070:70

[b]
uplink = up0
publish = 8081:80
CONF

# gw_uplink NAME : the uplink show --json reports ("null": any).
gw_uplink() { nsg show "$1" --json | jq -r '.uplink'; }

# b_old_or_new : b is up with its old uplink or the new one, and its old
# port or the new one (apply changes both in one gateway: either may be
# first; each half must be whole).
b_old_or_new() {
	local up
	kp_gw_up b 8080:80/tcp 8081:80/tcp
	up=$(gw_uplink b)
	case $up in
	null | up0) ;;
	*) fail "b: uplink '$up', expected any (null) or up0" ;;
	esac
}

# converged : the lab is what the file says: a and b as configured, no c.
converged() {
	kp_gw_up a 7070:70/tcp
	kp_gw_up b 8081:80/tcp
	[ "$(gw_uplink b)" = up0 ] || fail "b: uplink $(gw_uplink b) after apply, expected up0"
	kp_gw_gone c
}

apply_setup() {
	up_ok b --publish 8080:80
	up_ok c
}
apply_check() {
	kp_check a kp_gw_up_or_gone a 7070:70/tcp
	kp_check b b_old_or_new
	kp_check c kp_gw_up_or_gone c ""
}
apply_recover() {
	kp_check apply-again expect_exit 0 nsg apply "$CONF" --prune &&
		kp_check apply-again converged
	kp_all_down a b c
	kp_check up-again expect_exit 0 nsg up a
	kp_all_down a
}

kp_scenario apply apply "$CONF" --prune
kp_verdict
