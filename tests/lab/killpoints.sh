# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# killpoints.sh: SIGKILL nsgate at each of a command's kill points and check
# that gc then leaves a consistent lab (issue 11: "every kill is
# recoverable"). Sourced by tests/lab/test-kill-*.sh after lib.sh.
#
# A test names scenarios. For scenario S it defines S_setup (build the lab
# state the command starts from), S_check (what must hold after the kill and
# a gc) and S_recover (the command, or its inverse, run again must work, and
# then everything can be removed without residue). kp_scenario S ARGS...
# traces `nsgate ARGS` once to find its kill points, then for each point sets
# the scenario up afresh, runs the command under strace with
#   -e inject=SYSCALL:signal=KILL:when=K
# (killed on entering that call: the call itself never happens), runs
# `nsgate gc` and the checks, and records a verdict. kp_verdict prints the
# table of all points and fails the test if any point failed.
#
# Environment: KILL_STRIDE=K tries every Kth point only (default 1: all);
# KILL_ALL=1 also kills at the calls that change nothing (see kp_points).

# The calls a kill point can sit on: every syscall by which nsgate changes
# something outside its own process (files under /run and /etc/netns, sysctl
# writes, mounts, netlink requests), those it does not use today but a fix
# may (fsync, fchmod, linkat, ...: zero points while unused), and the two
# thread calls of down's link deletion (clone3 starts it, exit ends it).
# Not in the set: close (of a written file it is followed by the rename, of a
# socket or a read file it changes nothing; the kernel closes everything at
# the kill anyway), reads, socket/bind/setsockopt (gone with the process).
KP_SET=openat,open,creat,write,pwrite64,writev,rename,renameat,renameat2,link,linkat
KP_SET+=,symlink,symlinkat,unlink,unlinkat,mkdir,mkdirat,rmdir,mknod,mknodat
KP_SET+=,chmod,fchmod,fchmodat,chown,fchown,fchownat,truncate,ftruncate,fsync,fdatasync
KP_SET+=,mount,umount2,unshare,setns,sendmsg,sendto,flock,clone,clone3,exit

KP_RESULTS=$LAB_TMP/kp-results   # one line per tried point (kp_verdict)
KP_DETAILS=$LAB_TMP/kp-details   # the messages of the failed checks
: >"$KP_RESULTS"
: >"$KP_DETAILS"

# kp_strace ARGS... : strace, with LeakSanitizer off (it cannot run under
# ptrace; the sanitizer build) and bounded in time. Never --seccomp-bpf:
# with strace 6.1 an inject= under it never fires.
kp_strace() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout -k 2 60 strace "$@"
}

# kp_points TRACE : the kill points of a trace made with
# `strace -f -qq -y -e signal=none -e trace=$KP_SET`, one a line:
#   N <TAB> SYSCALL <TAB> K <TAB> WHO <TAB> WHAT <TAB> INJECTABLE <TAB> PATH
# where `strace -e trace=SYSCALL [-P PATH] -e inject=SYSCALL:signal=KILL:when=K`
# kills there. strace counts `when` per syscall and per tracee (man strace:
# "Accounting of syscalls that are subject to injection is done per syscall
# and per tracee"), and with -P only the calls naming PATH: so K is the
# call's rank among its own thread's calls of SYSCALL naming PATH. -P makes
# the points of file calls exact even when an earlier call is repeated: the
# kernel restarts a write to a forwarding or disable_ipv6 sysctl while
# another process holds RTNL (rtnl_trylock, ERESTARTNOINTR), each restart a
# new entry, so a plain count of writes differs from run to run under load.
# A point is injectable only if no other thread reaches its Kth call first:
# the link-deletion thread of down starts counting at 1 while the main
# thread made its first sendmsg long before, so the thread's own sendmsg can
# never be singled out (its exit, which only threads make, can). Those
# points are listed with INJECTABLE 0 and are not tried.
#
# Calls that change nothing are left out unless KILL_ALL=1: a kill on
# entering one leaves the state a kill on entering the next call leaves.
# They are: failed calls (= -1) and the restarts of a restarted call,
# read-only opens, writes to stdout/stderr, netlink GET/dump requests,
# flock/unshare/setns (the lock, the new and the joined namespaces die with
# the process) and fork (the child that releases the nfnetlink socket owns
# nothing else).
# shellcheck disable=SC2016 # an awk program: its $ are awk's
KP_AWK_POINTS='
function nltypes(s,   out, t, last, n) {
	out = ""; last = ""; n = 0
	while (match(s, /nlmsg_type=[^,]*/)) {
		t = substr(s, RSTART + 11, RLENGTH - 11)
		s = substr(s, RSTART + RLENGTH)
		sub(/^NFNL_SUBSYS_NFTABLES<<8\|NFT_MSG_/, "NFT_", t)
		sub(/^NFNL_SUBSYS_CTNETLINK<<8\|IPCTNL_MSG_/, "CT_", t)
		sub(/^NFNL_MSG_/, "", t)
		sub(/ .*/, "", t)
		if (t in rtm) t = rtm[t] "(ns)"
		if (t != last) { out = out (out == "" ? "" : " ") t; last = t }
		if (++n > 40) break
	}
	return out
}
# The first arguments, an fd shown as its path (strace -y: 7</path>).
function brief(a,   out, t) {
	sub(/^AT_FDCWD<[^>]*>, /, "", a)
	out = ""
	while (match(a, /[0-9]+<[^>]*>/)) {
		out = out substr(a, 1, RSTART - 1)
		t = substr(a, RSTART, RLENGTH); sub(/^[0-9]+</, "", t); sub(/>$/, "", t)
		out = out t; a = substr(a, RSTART + RLENGTH)
	}
	a = out a
	if (a ~ /^\{flags=/) return "thread"
	if (a ~ /^child_stack=/) return a ~ /CLONE_THREAD/ ? "thread" : "fork"
	sub(/, (O_|0[0-7]|0x|MNT_|LOCK_|MS_|[0-9]+\)).*/, "", a)
	sub(/\) += .*/, "", a)
	sub(/ <unfinished \.\.\.>$/, "", a)
	return substr(a, 1, 90)
}
# The path -P selects the call by: that of the fd for calls on one, the
# target of a mount, else the first absolute path; "" for the others.
function onpath(sc, a,   q, n) {
	if (sc ~ /^(write|pwrite64|writev|flock|fchmod|fchown|ftruncate|fsync|fdatasync)$/)
		return match(a, /^[0-9]+<\/[^>]*>/) ? substr(a, index(a, "<") + 1, RLENGTH - index(a, "<") - 1) : ""
	sub(/^AT_FDCWD<[^>]*>, /, "", a)
	n = 0
	while (match(a, /"[^"]*"/)) {
		q = substr(a, RSTART + 1, RLENGTH - 2); a = substr(a, RSTART + RLENGTH)
		if (sc == "mount" && ++n < 2) continue
		if (q ~ /^\//) return q
	}
	return ""
}
# Every path a call names, as -P matches them: the paths of its fds and its
# absolute path arguments (not the data of a write), one per SUBSEP.
function allpaths(sc, a,   out, q) {
	out = ""
	sub(/^AT_FDCWD<[^>]*>, /, "", a)
	sub(/\) += .*$/, "", a)
	if (sc ~ /^(write|pwrite64|writev)$/) return onpath(sc, a)
	while (match(a, /<\/[^>]*>|"\/[^"]*"/)) {
		q = substr(a, RSTART + 1, RLENGTH - 2); a = substr(a, RSTART + RLENGTH)
		out = out (out == "" ? "" : SUBSEP) q
	}
	return out
}
function effect(i,   sc, a) {
	sc = call[i]; a = args[i]
	if (ret[i] ~ /^-1 / || restart[i]) return 0
	if (sc == "flock" || sc == "unshare" || sc == "setns") return 0
	if (sc == "openat" || sc == "open") return a ~ /O_CREAT|O_TRUNC/
	if (sc ~ /^(write|pwrite64|writev)$/) return a !~ /^[12]</
	if (sc == "clone" || sc == "clone3") return a ~ /CLONE_THREAD/
	if (sc == "sendmsg" || sc == "sendto") return desc[i] !~ /^(RTM_GET|NFT_GET|CT_GET|SOCK_DIAG|GET)/
	return 1
}
BEGIN {
	rtm["0x10"] = "RTM_NEWLINK"; rtm["0x11"] = "RTM_DELLINK"; rtm["0x12"] = "RTM_GETLINK"
	rtm["0x13"] = "RTM_SETLINK"; rtm["0x14"] = "RTM_NEWADDR"; rtm["0x15"] = "RTM_DELADDR"
	rtm["0x16"] = "RTM_GETADDR"; rtm["0x18"] = "RTM_NEWROUTE"; rtm["0x19"] = "RTM_DELROUTE"
	rtm["0x1a"] = "RTM_GETROUTE"
}
{
	tid = $1
	line = $0; sub(/^[0-9]+ +/, "", line)
	if (line ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
		if (tid in pending) { i = pending[tid]; delete pending[tid]
			r = line; sub(/.* = /, "", r); ret[i] = r; if (r ~ /^\? ERESTART/) again[tid, call[i]] = 1 }
		next
	}
	if (line !~ /^[a-z0-9_]+\(/) next
	i = ++n
	sc = line; sub(/\(.*/, "", sc); call[i] = sc
	a = line; sub(/^[a-z0-9_]+\(/, "", a); args[i] = a
	if (line ~ /<unfinished \.\.\.>$/) { pending[tid] = i; ret[i] = "?" }
	else { r = line; sub(/.* = /, "", r); ret[i] = r }
	# The entry after an ERESTART* of the same call is its restart.
	if ((tid, sc) in again) { restart[i] = 1; delete again[tid, sc] }
	if (ret[i] ~ /^\? ERESTART/) again[tid, sc] = 1
	if (!main) main = tid
	tidof[i] = tid
	p = onpath(sc, a); path[i] = p
	if (p == "") rank[tid, sc, ""]++
	m = split(allpaths(sc, a), named, SUBSEP)
	for (j = 1; j <= m; j++) if (named[j] != "") rank[tid, sc, named[j]]++
	k[i] = rank[tid, sc, p]
	if (!((sc, p, k[i]) in first)) first[sc, p, k[i]] = i
	inj[i] = first[sc, p, k[i]] == i
	desc[i] = (sc == "sendmsg" || sc == "sendto") ? nltypes(a) : brief(a)
}
END {
	# Who made each call: the main thread, a thread it started (the
	# clone3 result, known only once the call returned), or a child.
	for (i = 1; i <= n; i++)
		if (call[i] ~ /^(clone|clone3)$/ && args[i] ~ /CLONE_THREAD/ && ret[i] ~ /^[0-9]+/)
			thread[ret[i] + 0] = 1
	for (i = 1; i <= n; i++) {
		who[i] = tidof[i] == main ? "main" : (tidof[i] in thread ? "thread" : "child")
		if (!all && !effect(i)) continue
		printf "%d\t%s\t%d\t%s\t%s(%s)\t%d\t%s\n", i, call[i], k[i], who[i], call[i], desc[i], inj[i], path[i]
	}
}'
kp_points() { awk -v all="${KILL_ALL:-0}" "$KP_AWK_POINTS" "$1"; }

# kp_reset : remove every trace of gateways from the lab by hand (not with
# nsgate: what a kill left may be what nsgate cannot remove), so each point
# starts from the same clean lab.
kp_reset() {
	local l p
	nft delete table inet nsgate 2>/dev/null
	for l in $(ip -o link show | awk -F': ' '$2 ~ /^nsg-/ { sub(/@.*/, "", $2); print $2 }'); do
		ip link del "$l" 2>/dev/null
	done
	for p in /run/netns/*; do
		if [ ! -e "$p" ] || [ "$p" = /run/netns/inet ]; then continue; fi
		umount -l "$p" 2>/dev/null
		rm -f "$p"
	done
	rm -rf /run/nsgate/* /etc/netns/*
	echo "$LAB_IP_FORWARD" >/proc/sys/net/ipv4/ip_forward
	echo "$LAB_UP0_FORWARDING" >/proc/sys/net/ipv4/conf/up0/forwarding
}

# ------------------------------------------------------------------ checks
# Each check runs in a subshell, so lib.sh's fail() ends the check, not the
# test: kp_check LABEL CMD... records "LABEL: first line of the failure".
kp_check() {
	local label=$1 msg
	shift
	("$@") >/dev/null 2>"$LAB_TMP/kp-check.err" && return 0
	# One line: expect_exit's "stdout:"/"stderr:" lines joined, empty ones dropped.
	msg=$(sed -n '/^FAIL/,$p' "$LAB_TMP/kp-check.err" | sed -e 's/^FAIL: //' -e '/^ *std[a-z]*: *$/d' |
		tr -s ' \n' '  ' | cut -c1-300)
	[ -n "$msg" ] || msg=$(head -c 300 "$LAB_TMP/kp-check.err" | tr -s ' \n' '  ')
	KP_FAILS+=("$label: ${msg:-failed}")
	return 1
}

# kp_words TEXT : TEXT's lines as one line, for a failure message.
kp_words() { tr -s '\n' ' ' <<<"$1"; }

# kp_no_tmp : no temporary file of an interrupted write is left.
kp_no_tmp() {
	local left
	left=$(find /run/nsgate /etc/netns \( -name '*.nsgate-tmp' -o -name '*.tmp' \) 2>/dev/null)
	[ -z "$left" ] || fail "temporary files left: $(kp_words "$left")"
}


# kp_ports_expand : published-port specs on stdin, as ports files hold them
# ([ADDR:]HOSTPORT[-END]:PORT[-END]/PROTO, one a line), as one line per port
# "ADDR PROTO HOSTPORT PORT", sorted.
kp_ports_expand() {
	awk 'NF {
		spec = $0; proto = "tcp"; addr = "0.0.0.0"
		if (match(spec, /\/[a-z]+$/)) { proto = substr(spec, RSTART + 1); spec = substr(spec, 1, RSTART - 1) }
		n = split(spec, f, ":")
		if (n == 3) { addr = f[1]; f[1] = f[2]; f[2] = f[3] }
		h1 = h2 = f[1]; if (split(f[1], hr, "-") == 2) { h1 = hr[1]; h2 = hr[2] }
		p1 = p2 = f[2]; if (split(f[2], pr, "-") == 2) { p1 = pr[1]; p2 = pr[2] }
		for (i = 0; i <= h2 - h1; i++) print addr, proto, h1 + i, (p2 == p1 ? p1 : p1 + i)
	}' | LC_ALL=C sort
}

# kp_published_of NAME [JSON] : the ports show NAME --json (or JSON, its
# output already read) says the kernel publishes, in kp_ports_expand's format.
kp_published_of() {
	local json=${2:-}
	[ -n "$json" ] || json=$(nsg show "$1" --json) || return 1
	jq -r '.published[] | . as $p | range(0; $p.host_end - $p.host_port + 1)
		| "\($p.host_addr) \($p.proto) \($p.host_port + .) \(if $p.end == $p.port then $p.port else $p.port + . end)"' \
		<<<"$json" | LC_ALL=C sort
}

# kp_ports_agree NAME : the kernel publishes exactly what NAME's ports file
# lists, so a flush and restore from the files loses no port (issue item 3).
kp_ports_agree() {
	local file kern
	file=$(kp_ports_expand 2>/dev/null <"/run/nsgate/$1.ports")
	kern=$(kp_published_of "$1") || fail "show $1 --json failed"
	[ "$file" = "$kern" ] ||
		fail "$1: the kernel publishes $(kp_ports_brief "$kern"), its ports file lists $(kp_ports_brief "$file")"
}
# kp_ports_brief EXPANDED : "N ports (first..last)" for a failure message.
kp_ports_brief() {
	[ -n "$1" ] || { echo "no port"; return; }
	awk '{ n++; h[n] = $3 "/" $2 } END { printf "%d port(s) (%s..%s)", n, h[1], h[n] }' <<<"$1"
}

# kp_published_one_of NAME [--json JSON] ALT... : NAME publishes exactly one
# of the alternatives; each ALT is a space-separated list of specs ("" for none).
kp_published_one_of() {
	local name=$1 json='' got alt
	shift
	[ "${1:-}" != --json ] || { json=$2; shift 2; }
	got=$(kp_published_of "$name" "$json") || fail "show $name --json failed"
	for alt in "$@"; do
		[ "$got" = "$(tr ' ' '\n' <<<"$alt" | kp_ports_expand)" ] && return 0
	done
	fail "$name publishes $(kp_ports_brief "$got"), expected one of: $(printf '[%s] ' "$@")"
}

# kp_gw_listed NAME : `nsgate list` knows gateway NAME.
kp_gw_listed() { nsg list --json 2>/dev/null | jq -e --arg n "$1" 'any(.[]; .name == $n)' >/dev/null; }

# kp_gw_up NAME ALT... : NAME is fully up: status up, its state, link,
# resolv.conf and the veth's forwarding there, its ports one of the ALTs
# (kp_published_one_of).
kp_gw_up() {
	local name=$1 json st
	shift
	json=$(nsg show "$name" --json 2>&1) || fail "$name: show failed: $json"
	st=$(jq -r .status <<<"$json")
	[ "$st" = up ] || fail "$name: status '$st', expected up"
	[ -e "/run/nsgate/$name.state" ] || fail "$name: no state file"
	[ -e "/etc/netns/$name/resolv.conf" ] || fail "$name: no /etc/netns/$name/resolv.conf"
	[ "$(cat "/proc/sys/net/ipv4/conf/nsg-$name/forwarding" 2>/dev/null)" = 1 ] ||
		fail "$name: net.ipv4.conf.nsg-$name.forwarding is not 1"
	kp_published_one_of "$name" --json "$json" "$@"
}

# kp_gw_gone NAME : nothing of NAME is left (once the kernel has removed
# the links left to it: wait_dying_gone's): no link of its name or label,
# no namespace /run/netns/NAME, no state, ports or run file, no
# /etc/netns/NAME at all (an empty directory is residue too), no element of
# table inet nsgate naming it. (assert_gone's checks, with messages short
# enough for kp_verdict's table.)
kp_gw_gone() {
	local name=$1 f left=
	# Links down left to the kernel go with their namespaces, after it.
	no_dying_links || WAIT_TRIES=1500 wait_for no_dying_links
	[ -e "/sys/class/net/nsg-$name" ] && left+=" link nsg-$name"
	for f in /sys/class/net/*/ifalias; do
		case $(cat "$f" 2>/dev/null) in
		"nsgate:$name" | "nsgate:$name "*) left+=" link $(basename "$(dirname "$f")") labelled $name" ;;
		esac
	done
	for f in "/run/netns/$name" "/run/nsgate/$name.state" "/run/nsgate/$name.ports" \
		"/run/nsgate/runs/$name.run" "/etc/netns/$name"; do
		[ -e "$f" ] && left+=" $f"
	done
	f=$(nft_elements | awk -F '\t' -v n="$name" '$2 == n { c++ } END { print c + 0 }')
	[ "$f" = 0 ] || left+=" $f nft elements"
	[ -z "$left" ] || fail "$name is not fully gone:$left"
}

# kp_no_residue NAME... : no gateway at all and nothing of NAMEs is left: no
# nsg-* link, no table inet nsgate, ip_forward and up0's forwarding as the
# lab started, no saved forwarding value (assert_no_residue's checks, short
# messages).
kp_no_residue() {
	local n left fwd
	for n in "$@"; do kp_gw_gone "$n"; done
	no_dying_links || WAIT_TRIES=1500 wait_for no_dying_links
	left=$(ip -o link show | awk -F': ' '$2 ~ /^nsg-/ { sub(/@.*/, "", $2); printf " %s", $2 }')
	[ -z "$left" ] || fail "links left:$left"
	nft list table inet nsgate >/dev/null 2>&1 && fail "table inet nsgate is left ($(nft_elements | grep -c '') elements)"
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	[ "$fwd" = "$LAB_IP_FORWARD" ] || fail "net.ipv4.ip_forward is $fwd, was $LAB_IP_FORWARD"
	fwd=$(cat /proc/sys/net/ipv4/conf/up0/forwarding)
	[ "$fwd" = "$LAB_UP0_FORWARDING" ] || fail "no gateway left, but net.ipv4.conf.up0.forwarding is $fwd, was $LAB_UP0_FORWARDING"
	left=$(find /run/nsgate/forwarding /run/nsgate/ip_forward.saved -type f 2>/dev/null)
	[ -z "$left" ] || fail "saved forwarding values left: $(kp_words "$left")"
	return 0
}

# kp_gw_up_or_gone NAME ALT... : after a kill and gc, NAME is either fully
# up (kp_gw_up) or fully gone (kp_gw_gone): never in between.
kp_gw_up_or_gone() {
	if kp_gw_listed "$1"; then
		kp_gw_up "$@"
	else
		kp_gw_gone "$1"
	fi
}

# kp_all_consistent : every gateway list knows is up and its ports agree with
# its file; the kernel's elements are those list implies; with gateways, up0
# forwards and its old value is saved; without, no residue at all (tables,
# links, forwarding back to the lab's values, no saved values).
kp_all_consistent() {
	local json bad n
	json=$(nsg list --json) || fail "list --json failed"
	bad=$(jq -r '.[] | select(.status != "up") | "\(.name): \(.status)"' <<<"$json" | tr '\n' ' ')
	[ -z "$bad" ] || fail "gateways not up after gc: $bad"
	assert_kernel_matches_list
	for n in $(jq -r '.[].name' <<<"$json"); do kp_ports_agree "$n"; done
	if [ "$(jq length <<<"$json")" -gt 0 ]; then
		[ "$(cat /proc/sys/net/ipv4/conf/up0/forwarding)" = 1 ] ||
			fail "gateways are up but net.ipv4.conf.up0.forwarding is $(cat /proc/sys/net/ipv4/conf/up0/forwarding)"
		[ -e /run/nsgate/forwarding/up0.saved ] ||
			fail "gateways are up but up0's old forwarding is not saved (no /run/nsgate/forwarding/up0.saved)"
	else
		kp_no_residue
	fi
}

# kp_ns_id NAME : "IFINDEX-of-nsg-NAME NETNS-INODE" (re-created: it differs).
kp_ns_id() {
	echo "$(cat "/sys/class/net/nsg-$1/ifindex" 2>/dev/null) $(ip netns exec "$1" stat -L -c %i /proc/self/ns/net 2>/dev/null)"
}

# kp_keep_record NAME : remember the untouched gateway NAME's link and
# namespace before the kill (kp_keep_intact compares).
kp_keep_record() { KP_KEEP_ID=$(kp_ns_id "$1"); }
# kp_keep_intact NAME SPEC... : a gateway the command was not about is up,
# publishes SPECs and was not re-created.
kp_keep_intact() {
	local name=$1 id
	shift
	kp_gw_up "$name" "$*"
	id=$(kp_ns_id "$name")
	[ "$id" = "$KP_KEEP_ID" ] || fail "$name was re-created (link ifindex, netns inode: $KP_KEEP_ID -> $id)"
}

# kp_keep_up : the bystander of the scenarios that have one: gateway "keep",
# publishing 9090:90, recorded before the kill; kp_keep_checked checks it.
kp_keep_up() {
	up_ok keep --publish 9090:90
	kp_keep_record keep
}
kp_keep_checked() { kp_check keep kp_keep_intact keep 9090:90/tcp; }

# kp_lo_record NS : remember the flags of lo in the attached namespace NS.
kp_lo_flags() { ip -n "$1" -o link show lo 2>/dev/null | grep -o '<[^>]*>'; }
kp_lo_record() { KP_LO_FLAGS=$(kp_lo_flags "$1"); }
# kp_attached_kept NS : the attached namespace NS still exists (nsgate never
# deletes one it did not make).
kp_attached_kept() { [ -e "/run/netns/$1" ] || fail "the attached namespace $1 was deleted"; }
# kp_attached_intact NS : the attached namespace NS still exists (nsgate never
# deletes one it did not make) and its lo is as it was before the command.
kp_attached_intact() {
	kp_attached_kept "$1"
	[ "$(kp_lo_flags "$1")" = "$KP_LO_FLAGS" ] ||
		fail "lo in the attached namespace $1 is $(kp_lo_flags "$1"), was $KP_LO_FLAGS (issue item 10)"
}

# kp_all_down NAME... : `down --all` works (run once more if not, so the
# residue check still runs) and then zero residue is left of NAMEs
# (kp_no_residue), no file of nsgate's but the lock. Checks of its own
# (labels down-all, residue): call it from a _recover, not under kp_check.
kp_all_down() {
	kp_check down-all expect_exit 0 nsg down --all || nsg down --all >/dev/null 2>&1
	kp_check residue kp_no_residue_at_all "$@"
}
kp_no_residue_at_all() {
	local left
	kp_no_residue "$@"
	kp_no_tmp
	left=$(find /run/nsgate /etc/netns -mindepth 1 ! -name lock ! -name forwarding ! -name runs ! -name networks 2>/dev/null)
	[ -z "$left" ] || fail "files left after down --all: $(kp_words "$left")"
}

# ------------------------------------------------------------------ runner
# kp_kill SYSCALL K PATH : set the scenario up afresh and run the command,
# killed on entering its Kth SYSCALL naming PATH (any call without one);
# K 0: not killed. Its exit status in $KP_KILL_RC, the call strace saw it
# killed at (kp_points' WHAT) in $KP_KILLED_AT.
kp_kill() {
	local sc=$1 k=$2 path=$3 opts=(-e "trace=$KP_SET") kt=$LAB_TMP/kp-kill.trace
	kp_reset
	"${KP_SCEN}_setup" >/dev/null
	if [ "$k" != 0 ]; then
		opts=(-e "trace=$sc" -e "inject=$sc:signal=KILL:when=$k")
		[ -z "$path" ] || opts+=(-P "$path")
	fi
	# The braces take the shell's "Killed" notice into the log.
	{ kp_strace -f -qq -y -o "$kt" "${opts[@]}" "$NSGATE" "${KP_ARGS[@]}" \
		>"$LAB_TMP/kp-cmd.out" 2>&1; KP_KILL_RC=$?; } 2>/dev/null
	KP_KILLED_AT=$(KILL_ALL=1 kp_points "$kt" | tail -n 1 | cut -f5)
}

# kp_trial SCEN SYSCALL K PATH WHAT : one kill point: the command killed on
# entering the call WHAT (kp_kill), then gc and SCEN's checks. When the kill
# missed that call (not killed, or killed elsewhere: thread timing), it is
# tried twice more, then noted. K 0: the command is not killed (the
# baseline: every check must pass on it).
kp_trial() {
	KP_SCEN=$1
	KP_FAILS=()
	KP_NOTE=
	for _ in 1 2 3; do
		kp_kill "$2" "$3" "$4"
		[ "$3" != 0 ] || break
		[ "$KP_KILL_RC" != 137 ] || [ "$KP_KILLED_AT" != "$5" ] || break
	done
	if [ "$3" != 0 ] && [ "$KP_KILL_RC" != 137 ]; then
		KP_NOTE="not killed (exit $KP_KILL_RC)"
	elif [ "$3" != 0 ] && [ "$KP_KILLED_AT" != "$5" ]; then
		KP_NOTE="killed at $KP_KILLED_AT instead"
	fi
	kp_check gc expect_exit 0 nsg gc
	kp_check tmp kp_no_tmp
	kp_check consistent kp_all_consistent
	"${KP_SCEN}_check"
	"${KP_SCEN}_recover"
}

# kp_scenario SCEN ARGS... : every kill point of `nsgate ARGS` from SCEN's
# starting state (KILL_STRIDE: every Kth).
kp_scenario() {
	local scen=$1 trace=$LAB_TMP/kp-$1.trace points=$LAB_TMP/kp-$1.points
	local stride=${KILL_STRIDE:-1} j=0 t0 t1 n sc k who what inj path tried=0 skipped=0
	shift
	KP_ARGS=("$@")
	kp_reset
	"${scen}_setup" >/dev/null
	kp_strace -f -qq -y -e signal=none -o "$trace" -e "trace=$KP_SET" "$NSGATE" "$@" \
		>"$LAB_TMP/kp-cmd.out" 2>&1 || fail "$scen: the traced run of 'nsgate $*' failed: $(cat "$LAB_TMP/kp-cmd.out")"
	kp_points "$trace" >"$points"
	note "$scen: nsgate $* : $(grep -c '' "$trace") traced calls, $(awk -F'\t' '$6 == 1' "$points" | grep -c '') kill points"
	t0=$(date +%s%N)
	kp_trial "$scen" - 0 "" ""
	kp_record "$scen" 0 - - "(not killed)"
	while IFS=$'\t' read -r n sc k who what inj path; do
		if [ "$inj" != 1 ]; then
			kp_record_skip "$scen" "$n" "$sc#$k" "$who" "$what"
			skipped=$((skipped + 1))
			continue
		fi
		j=$((j + 1))
		[ $(((j - 1) % stride)) = 0 ] || continue
		kp_trial "$scen" "$sc" "$k" "$path" "$what" </dev/null
		kp_record "$scen" "$n" "$sc#$k" "$who" "$what"
		tried=$((tried + 1))
	done <"$points"
	t1=$(date +%s%N)
	note "$scen: $tried points tried (stride $stride), $skipped not injectable, $(((t1 - t0) / 1000000)) ms ($(((t1 - t0) / 1000000 / (tried + 1))) ms a trial)"
}

# kp_record SCEN N CALL WHO WHAT : the verdict of the trial just run.
kp_record() {
	local verdict=ok f
	if [ ${#KP_FAILS[@]} -gt 0 ]; then
		verdict=FAIL
		{
			echo "$1 point $2 ($3 $4 $5), command exit $KP_KILL_RC:"
			for f in "${KP_FAILS[@]}"; do echo "    $f"; done
		} >>"$KP_DETAILS"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$KP_KILL_RC" "$verdict" \
		"${KP_NOTE:+$KP_NOTE; }$(IFS="|"; echo "${KP_FAILS[*]}")" >>"$KP_RESULTS"
	[ "$verdict" = ok ] || echo "  FAIL $1 point $2 $3 ($5): ${KP_FAILS[0]}" >&2
}
kp_record_skip() {
	printf '%s\t%s\t%s\t%s\t%s\t-\tskip\tnot injectable (strace counts per thread)\n' "$@" >>"$KP_RESULTS"
}

# kp_verdict : the table of every point and the failed checks; fails the test
# when any point failed.
kp_verdict() {
	local nfail
	echo "---- kill points (scenario, trace line, call#rank (among its thread's calls naming the same path), thread, call, exit, verdict, failed checks)"
	awk -F'\t' '{ printf "%-10s %4s  %-12s %-6s %-58s %4s  %-4s  %s\n", $1, $2, $3, $4, substr($5, 1, 58), $6, $7, substr($8, 1, 400) }' \
		"$KP_RESULTS"
	nfail=$(awk -F'\t' '$7 == "FAIL"' "$KP_RESULTS" | grep -c '')
	if [ "$nfail" -gt 0 ]; then
		echo "---- failed checks, in full"
		cat "$KP_DETAILS"
		echo "---- failed points per check"
		awk -F'\t' '$7 == "FAIL" { n = split($8, f, "|"); delete seen
			for (i = 1; i <= n; i++) { c = f[i]; sub(/:.*/, "", c); if (!(c in seen)) { seen[c]; cnt[c]++ } } }
			END { for (c in cnt) printf "  %-16s %d\n", c, cnt[c] }' "$KP_RESULTS" | LC_ALL=C sort
		fail "$nfail of $(awk -F'\t' '$7 != "skip"' "$KP_RESULTS" | grep -c '') kill points failed (table above)"
	fi
	pass "$(awk -F'\t' '$7 == "ok"' "$KP_RESULTS" | grep -c '') kill points: after each kill and gc, consistent and recoverable"
}
