# SPDX-License-Identifier: MIT
# test-kill-down.sh: SIGKILL `nsgate down` at each of its kill points
# (killpoints.sh), then `nsgate gc`: each gateway is fully up or fully gone
# (never half removed), the other gateway untouched, no temporary file or
# empty /etc/netns/NAME left, forwarding back when no gateway is left; then
# `down` again works, an `up` of the same name works, and everything goes
# without residue. Scenarios: down_keep (next to a gateway "keep"),
# down_last (the last gateway: the table and up0's saved forwarding go),
# down_all (`down --all` of two: one transaction, one link group) and
# down_attach (an attached namespace: it stays, and its lo as found).
# down deletes the link in a thread; its sendmsg cannot be singled out by
# strace (killpoints.sh, kp_points) and is listed as not injectable.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
# shellcheck source=tests/lab/killpoints.sh
. "$LAB_DIR/killpoints.sh"

# again_and_up NAME UPARGS... : down NAME again works and removes it; then
# up NAME works (the name is not blocked) and down removes it again.
again_and_up() {
	local name=$1
	shift
	kp_check down-again expect_exit 0 nsg down "$name" &&
		kp_check down-again kp_gw_gone "$name"
	kp_check up-again expect_exit 0 nsg up "$name" "$@" &&
		kp_check down-after-up expect_exit 0 nsg down "$name"
}

down_keep_setup() {
	kp_keep_up
	up_ok web --publish 8080:80
}
down_keep_check() {
	kp_check web kp_gw_up_or_gone web 8080:80/tcp
	kp_keep_checked
}
down_keep_recover() {
	again_and_up web --publish 8080:80
	kp_keep_checked
	kp_all_down web keep
}

down_last_setup() { up_ok web --publish 8080:80; }
down_last_check() { kp_check web kp_gw_up_or_gone web 8080:80/tcp; }
down_last_recover() {
	again_and_up web --publish 8080:80
	kp_all_down web
}

down_all_setup() { down_keep_setup; }
down_all_check() {
	kp_check web kp_gw_up_or_gone web 8080:80/tcp
	kp_check keep kp_gw_up_or_gone keep 9090:90/tcp
}
down_all_recover() {
	kp_all_down web keep
	kp_check up-again expect_exit 0 nsg up web --publish 8080:80
	kp_all_down web
}

down_attach_setup() {
	must ip netns add other
	kp_lo_record other
	up_ok web --netns other
}
down_attach_check() {
	kp_check web kp_gw_up_or_gone web ""
	kp_check other kp_attached_kept other
}
down_attach_recover() {
	again_and_up web --netns other
	kp_all_down web
	kp_check other kp_attached_intact other
}

kp_scenario down_keep down web
kp_scenario down_last down web
kp_scenario down_all down --all
kp_scenario down_attach down web
kp_verdict
