# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# firewalld.sh - a private system bus and firewalld inside a lab. Sourced by
# a lab test after lib.sh (so only ever inside lab.sh's namespaces):
#     . "$LAB_DIR/firewalld.sh"
#     fwd_start            # dbus-daemon + firewalld, nftables backend; waits for "running"
#     fwd firewall-cmd ... # bounded firewall-cmd
#     fwd_stop             # firewalld, then the bus (the lab's end kills them anyway)
#
# Everything either daemon writes is the lab's own: the bus socket is
# /run/dbus/system_bus_socket (where sd-bus and firewall-cmd look) on the
# lab's tmpfs /run; /etc/firewalld is a tmpfs holding a copy of the
# machine's, /var/lib/firewalld and /var/log tmpfs of their own; firewalld
# logs to $FWD_DIR/firewalld.log. The bus's policy is the system bus's
# (root may own and call firewalld's names through its system.d file), but
# without service activation: nothing else (polkitd, NetworkManager) starts.

if [ "${LAB_READY:-}" != yes ] || [ "${NSGATE_IN_LAB:-}" != 1 ]; then
	echo "FAIL: firewalld.sh is only for use inside lab.sh's lab" >&2
	exit 1
fi

FWD_DIR=$LAB_TMP/firewalld
FWD_BUS_PID=
FWD_PID=

# fwd CMD... : run CMD bounded in time (firewall-cmd waits for D-Bus).
fwd() { timeout -k 2 30 "$@"; }

# fwd_state : firewall-cmd --state says running.
fwd_state() { [ "$(fwd firewall-cmd --state 2>/dev/null)" = running ]; }

# fwd_bus_config FILE : the bus configuration: system.conf's policy, the
# machine's system.d policies (FirewallD.conf among them), no activation,
# no user switch, no syslog.
fwd_bus_config() {
	cat >"$1" <<-'EOF'
		<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
		 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
		<busconfig>
		  <type>system</type>
		  <listen>unix:path=/run/dbus/system_bus_socket</listen>
		  <auth>EXTERNAL</auth>
		  <policy context="default">
		    <allow user="*"/>
		    <deny own="*"/>
		    <deny send_type="method_call"/>
		    <allow send_type="signal"/>
		    <allow send_requested_reply="true" send_type="method_return"/>
		    <allow send_requested_reply="true" send_type="error"/>
		    <allow receive_type="method_call"/>
		    <allow receive_type="method_return"/>
		    <allow receive_type="error"/>
		    <allow receive_type="signal"/>
		    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
		    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
		    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
		  </policy>
		  <policy user="root">
		    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
		  </policy>
		  <includedir>/usr/share/dbus-1/system.d</includedir>
		  <includedir>/etc/dbus-1/system.d</includedir>
		</busconfig>
	EOF
}

# fwd_private_dirs : firewalld's configuration and state on the lab's tmpfs.
fwd_private_dirs() {
	local d
	mkdir -p "$FWD_DIR/etc" /run/dbus || fail "firewalld.sh: mkdir $FWD_DIR"
	[ -d /etc/firewalld ] || fail "firewalld.sh: /etc/firewalld is missing (Debian package firewalld)"
	cp -a /etc/firewalld/. "$FWD_DIR/etc/" || fail "firewalld.sh: copy of /etc/firewalld"
	mount -t tmpfs -o mode=750 lab-fwd-etc /etc/firewalld || fail "firewalld.sh: tmpfs on /etc/firewalld"
	cp -a "$FWD_DIR/etc/." /etc/firewalld/ || fail "firewalld.sh: fill /etc/firewalld"
	# The machine's file may say otherwise: the lab runs the nftables backend.
	if ! sed -i -e '/^FirewallBackend=/d' /etc/firewalld/firewalld.conf ||
		! echo FirewallBackend=nftables >>/etc/firewalld/firewalld.conf; then
		fail "firewalld.sh: FirewallBackend in the lab's firewalld.conf"
	fi
	for d in /var/lib/firewalld /var/log; do
		mkdir -p "$d" 2>/dev/null
		mount -t tmpfs -o mode=755 lab-fwd "$d" || fail "firewalld.sh: tmpfs on $d"
	done
}

# fwd_start : start the bus and firewalld; return once firewall-cmd --state
# says running (bounded: 60 s, firewalld's start is slow on a busy machine).
fwd_start() {
	local out
	need_tools dbus-daemon firewalld firewall-cmd
	[ -z "$FWD_PID" ] || fail "fwd_start: firewalld already started ($FWD_PID)"
	fwd_private_dirs
	fwd_bus_config "$FWD_DIR/bus.conf"
	out=$(dbus-daemon --config-file="$FWD_DIR/bus.conf" --fork --print-pid 2>&1) ||
		fail "firewalld.sh: dbus-daemon did not start: $out"
	FWD_BUS_PID=$out
	[ -S /run/dbus/system_bus_socket ] || fail "firewalld.sh: no /run/dbus/system_bus_socket"
	firewalld --nofork --nopid --log-target file --log-file "$FWD_DIR/firewalld.log" \
		>"$FWD_DIR/firewalld.out" 2>&1 &
	FWD_PID=$!
	for _ in $(seq 600); do
		fwd_state && break
		kill -0 "$FWD_PID" 2>/dev/null ||
			fail "firewalld exited: $(tail -n 20 "$FWD_DIR/firewalld.out" "$FWD_DIR/firewalld.log" 2>&1)"
		sleep 0.1
	done
	fwd_state || fail "firewalld is not running after 60 s: $(tail -n 20 "$FWD_DIR/firewalld.log" 2>&1)"
	nft list table inet firewalld >/dev/null 2>&1 ||
		fail "firewalld runs but made no table inet firewalld (nftables backend?)"
	note "firewalld runs (pid $FWD_PID, bus pid $FWD_BUS_PID)"
}

# fwd_wait_gone PID : wait (bounded, 30 s) for PID to end.
fwd_wait_gone() {
	for _ in $(seq 300); do
		proc_gone "$1" && return 0
		sleep 0.1
	done
	return 1
}

# fwd_stop : end firewalld (SIGTERM: CleanupOnExit removes its table), then
# the bus. Only the processes fwd_start started.
fwd_stop() {
	if [ -n "$FWD_PID" ]; then
		kill -TERM "$FWD_PID" 2>/dev/null
		fwd_wait_gone "$FWD_PID" || fail "firewalld ($FWD_PID) did not end on SIGTERM"
		wait "$FWD_PID" 2>/dev/null
		FWD_PID=
	fi
	if [ -n "$FWD_BUS_PID" ]; then
		kill -TERM "$FWD_BUS_PID" 2>/dev/null
		fwd_wait_gone "$FWD_BUS_PID" || fail "dbus-daemon ($FWD_BUS_PID) did not end on SIGTERM"
		FWD_BUS_PID=
	fi
}

# fwd_restart : firewalld stopped and started again on the same bus (its
# bus name gets a new owner; runtime changes are gone).
fwd_restart() {
	kill -TERM "$FWD_PID" 2>/dev/null
	fwd_wait_gone "$FWD_PID" || fail "firewalld ($FWD_PID) did not end on SIGTERM"
	wait "$FWD_PID" 2>/dev/null
	firewalld --nofork --nopid --log-target file --log-file "$FWD_DIR/firewalld.log" \
		>>"$FWD_DIR/firewalld.out" 2>&1 &
	FWD_PID=$!
	for _ in $(seq 600); do
		fwd_state && return 0
		sleep 0.1
	done
	fail "firewalld is not running again after 60 s: $(tail -n 20 "$FWD_DIR/firewalld.log" 2>&1)"
}

# fwd_runtime_zones : firewalld's whole runtime zone configuration, to
# compare before and after.
fwd_runtime_zones() { fwd firewall-cmd --list-all-zones; }
