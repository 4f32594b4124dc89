# SPDX-License-Identifier: MIT
# test-kill-up.sh: SIGKILL `nsgate up` at each of its kill points
# (killpoints.sh), then `nsgate gc`: the gateway is fully up or fully gone,
# the other gateway untouched, no temporary file, forwarding back when no
# gateway is left, and an `up` of the same name then works and `down` leaves
# zero residue (issue 11 item 1: a kill never blocks a name).
# Scenarios: up_keep (own namespace and a published port, next to a gateway
# "keep": shared state exists), up_first (the same as the first gateway: the
# table, the subnet hint and up0's forwarding are made) and up_attach (an
# attached namespace "other", first gateway: its lo must be left as found).
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
# shellcheck source=tests/lab/killpoints.sh
. "$LAB_DIR/killpoints.sh"

up_keep_setup() {
	kp_keep_up
}
up_keep_check() {
	kp_check web kp_gw_up_or_gone web 8080:80/tcp
	kp_keep_checked
}
up_keep_recover() {
	kp_check up-again expect_exit 0 nsg up web --publish 8080:80 &&
		kp_check up-again kp_gw_up web 8080:80/tcp
	kp_check down-web expect_exit 0 nsg down web &&
		kp_check down-web kp_gw_gone web
	kp_keep_checked
	kp_all_down web keep
}

up_first_setup() { :; }
up_first_check() { kp_check web kp_gw_up_or_gone web 8080:80/tcp; }
up_first_recover() {
	kp_check up-again expect_exit 0 nsg up web --publish 8080:80 &&
		kp_check up-again kp_gw_up web 8080:80/tcp
	kp_check down-web expect_exit 0 nsg down web
	kp_all_down web
}

up_attach_setup() {
	must ip netns add other
	kp_lo_record other
}
up_attach_check() {
	kp_check web kp_gw_up_or_gone web ""
	kp_check other kp_attached_kept other
}
up_attach_recover() {
	kp_check up-again expect_exit 0 nsg up web --netns other &&
		kp_check up-again kp_gw_up web ""
	kp_check down-web expect_exit 0 nsg down web
	kp_all_down web
	kp_check other kp_attached_intact other
}

kp_scenario up_keep up web --publish 8080:80
kp_scenario up_first up web --publish 8080:80
kp_scenario up_attach up web --netns other
kp_verdict
