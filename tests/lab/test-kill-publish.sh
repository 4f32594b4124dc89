# SPDX-License-Identifier: MIT
# test-kill-publish.sh: SIGKILL `nsgate publish` and `nsgate unpublish` at
# each of their kill points (killpoints.sh), then `nsgate gc`: the gateway
# stays up and publishes either the old or the new ports, exactly what its
# ports file lists (a flush and restore from the file loses none: issue 11
# item 3), the other gateway is untouched, no temporary file is left; the
# command run again then completes, and everything goes without residue.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
# shellcheck source=tests/lab/killpoints.sh
. "$LAB_DIR/killpoints.sh"

RANGE=6000-6009:6000-6009

# publish: web publishes 8080, then the range too.
pub_setup() {
	kp_keep_up
	up_ok web --publish 8080:80
}
pub_check() {
	kp_check web kp_gw_up web "8080:80/tcp" "8080:80/tcp $RANGE/tcp"
	kp_keep_checked
}
pub_recover() {
	kp_check publish-again expect_exit 0 nsg publish web "$RANGE" &&
		kp_check publish-again kp_gw_up web "8080:80/tcp $RANGE/tcp"
	kp_keep_checked
	kp_all_down web keep
}

# unpublish: web publishes 8080 and the range, then 8080 only.
unpub_setup() {
	pub_setup
	expect_exit 0 nsg publish web "$RANGE"
}
unpub_check() { pub_check; }
unpub_recover() {
	# Run again it completes the unpublish; when the kill came after the
	# commit, the range is not published any more: exit 2 says so.
	if kp_published_of web | grep -q ' 6000 '; then
		kp_check unpublish-again expect_exit 0 nsg unpublish web "$RANGE"
	else
		kp_check unpublish-again expect_exit 2 nsg unpublish web "$RANGE"
	fi
	kp_check unpublish-again kp_gw_up web "8080:80/tcp"
	kp_keep_checked
	kp_all_down web keep
}

kp_scenario pub publish web "$RANGE"
kp_scenario unpub unpublish web "$RANGE"
kp_verdict
