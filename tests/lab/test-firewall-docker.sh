# SPDX-License-Identifier: MIT
# test-firewall-docker.sh: a gateway works on a host running a real dockerd
# (issue 12). dockerd (docker.io 20.10, vfs, cgroupfs, its own containerd,
# all state on the lab's tmpfs: see docker.sh) makes its iptables-nft layout
# in the lab: filter FORWARD policy DROP, DOCKER-USER. Then:
#   - up web --publish 8080:80: the namespace reaches inet (masqueraded),
#     inet reaches 198.51.100.1:8080, nsgate's accept rules sit in
#     DOCKER-USER (before its RETURN, below nsgate's RETURNs for docker0 and
#     br-+) and nowhere else; doctor says healthy;
#   - Docker's isolation holds for the namespace: a connection to a
#     container's own address on a port it listens on but does not publish
#     (on docker0, and on a network of `docker network create`, br-*) times
#     out from the namespace and answers from the host; the published port
#     on the host's address answers from the namespace. Without the RETURNs
#     (what the previous nsgate left) the namespace got through; gc puts
#     them back;
#   - dockerd restarts (SIGTERM, start, ready) under `nsgate watch`: within
#     1 s of docker answering again the gateway works both ways; docker's own
#     published port (a container with -p 9090:80) works again too;
#   - down: iptables-save (nft, legacy, ip6) is as before up, Docker's port
#     and ip_forward stay as Docker needs them.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# shellcheck source=tests/lab/firewall.sh
. "$LAB_DIR/firewall.sh"
# shellcheck source=tests/lab/docker.sh
. "$LAB_DIR/docker.sh"

DOCKER_PORT=9090
HIDDEN_PORT=81 # the published container listens here too, unpublished
WLOG=$LAB_TMP/watch.log

# ipt_layout : ipt_save (iptables-nft, IPv4 and IPv6) and iptables-legacy's
# tables, without comments and counters: what must be as before up.
ipt_layout() {
	ipt_save
	echo "## iptables-legacy-save"
	iptables-legacy-save 2>&1 | grep -v '^#'
}

# ms_since T0 : milliseconds since T0 (date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# probe_tcp ADDR PORT WANT PREFIX... : one quick connection (200 ms to
# connect) answers exactly WANT; for polling within a deadline.
probe_tcp() {
	local addr=$1 port=$2 want=$3 got
	shift 3
	got=$("$@" timeout -k 1 3 socat -T1 -u "TCP4:$addr:$port,connect-timeout=0.2" STDOUT </dev/null 2>/dev/null)
	[ "$got" = "$want" ]
}

# gateway_works : out (masqueraded) and in (the published port), quickly.
gateway_works() {
	probe_tcp "$INET_ADDR" "$SERVER_PORT" "$UPLINK_ADDR" run_in_gw web &&
		probe_tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
}

# docker_port_works : docker's published port answers inet, from its container.
docker_port_works() { probe_tcp "$UPLINK_ADDR" "$DOCKER_PORT" "docker $INET_ADDR" ip netns exec inet; }

# poll_until MS CMD... : CMD succeeds within MS milliseconds of now (polled);
# the time it took is in $POLL_MS.
poll_until() {
	local limit=$1 t0
	shift
	t0=$(date +%s%N)
	until "$@"; do
		[ "$(ms_since "$t0")" -lt "$limit" ] || return 1
		sleep 0.02
	done
	POLL_MS=$(ms_since "$t0")
}

# docker_user_verdict : "ok" when nsgate's two accepts (-i/-o nsg-+,
# comment nsgate) are in DOCKER-USER ahead of Docker's RETURN, below
# nsgate's two RETURNs (-i nsg-+ -o docker0, -o br-+), and no other rule of
# any table carries nsgate's comment; else what is wrong.
docker_user_verdict() {
	iptables-save | awk '
		/^-A DOCKER-USER / {
			n++
			if ($0 == "-A DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT") in_at = in_at ? in_at : n
			if ($0 == "-A DOCKER-USER -o nsg-+ -m comment --comment nsgate -j ACCEPT") out_at = out_at ? out_at : n
			if ($0 == "-A DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN") r0_at = r0_at ? r0_at : n
			if ($0 == "-A DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN") rbr_at = rbr_at ? rbr_at : n
			if ($0 == "-A DOCKER-USER -j RETURN") ret_at = ret_at ? ret_at : n
		}
		/--comment "?nsgate"?( |$)/ { tagged++ }
		END {
			if (!in_at || !out_at) print "accepts not in DOCKER-USER"
			else if (!r0_at || !rbr_at) print "RETURNs for docker0 and br-+ not in DOCKER-USER"
			else if (r0_at > in_at || rbr_at > in_at) print "a RETURN below the accept -i nsg-+"
			else if (ret_at && (in_at > ret_at || out_at > ret_at)) print "after DOCKER-USER'"'"'s RETURN"
			else if (tagged != 4) print tagged " rules with comment nsgate, not 4"
			else print "ok"
		}'
}
docker_user_ok() { [ "$(docker_user_verdict)" = ok ]; }

# assert_docker_user_rules [MS] : docker_user_verdict is ok (within MS ms).
assert_docker_user_rules() {
	poll_until "${1:-0}" docker_user_ok && return 0
	fail "nsgate's rules: $(docker_user_verdict):
$(iptables-save -t filter | grep -E '^(:|-A (FORWARD|DOCKER-USER|INPUT) )')${WATCH:+
  watch log: $(cat "$WLOG")}"
}

# assert_docker_layout : dockerd made what it makes on a host whose
# forwarding was off: filter FORWARD policy DROP, a DOCKER-USER chain.
assert_docker_layout() {
	local policy
	policy=$(iptables-save -t filter | grep '^:FORWARD ')
	case $policy in
	":FORWARD DROP"*) ;;
	*) fail "dockerd did not set filter FORWARD to DROP: '$policy'" ;;
	esac
	iptables -S DOCKER-USER >/dev/null 2>&1 || fail "dockerd made no DOCKER-USER chain"
}

# Docker's daemon, a container publishing 9090 and reaching inet.
docker_up() {
	need_tools iptables-legacy-save
	start_server_in inet "$SERVER_PORT"
	docker_setup
	docker_start
	DOCKER_FIRST_MS=$DOCKER_START_MS
	docker_assert_private
	docker_mini_image
	# Port 80 published as 9090, HIDDEN_PORT not published.
	# shellcheck disable=SC2016 # $SOCAT_PEERADDR is the container shell's
	dk run -d --name pub --restart always -p "$DOCKER_PORT:80" lab/mini /bin/sh -c "
		/bin/socat TCP4-LISTEN:$HIDDEN_PORT,fork,reuseaddr 'SYSTEM:echo hidden' &
		exec /bin/socat TCP4-LISTEN:80,fork,reuseaddr 'SYSTEM:echo docker \$SOCAT_PEERADDR'" >/dev/null ||
		fail "docker run of the published container failed: $(tail -n 5 "$DOCKER_LOG")"
	poll_until 10000 docker_port_works || fail "docker's published port $DOCKER_PORT never answered inet"
	seen=$(dk run --rm lab/mini /bin/socat -T3 -u "TCP4:$INET_ADDR:$SERVER_PORT,connect-timeout=3" STDOUT 2>&1)
	[ "$seen" = "$UPLINK_ADDR" ] || fail "a container does not reach inet masqueraded: '$seen'"
	assert_docker_layout
	pass "dockerd ready in $DOCKER_FIRST_MS ms; FORWARD policy DROP, DOCKER-USER; container port $DOCKER_PORT and egress work"
}

# doctor asks the internet's DNS server (the lab's resolv.conf names it) from
# inside the namespace, through Docker's FORWARD.
gateway_up() {
	BEFORE=$(ipt_layout)
	start_inet_dns
	up_ok web --publish 8080:80
	start_tagged_server_in web tcp 80 web
	expect_internet run_in_gw web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	assert_docker_user_rules
	docker_port_works || fail "docker's port $DOCKER_PORT stopped answering after up"
	# Healthy with Docker's firewall opened for it: doctor says so.
	expect_exit 0 nsg doctor web
	pass "up --publish 8080:80 under Docker: egress masqueraded, inet reaches :8080, rules in DOCKER-USER"
}

# from_host_only ADDR PORT WANT WHAT : ADDR:PORT (a container's own address,
# a port it listens on but does not publish) answers WANT to the host
# itself, and a connection from the gateway's namespace times out: Docker's
# FORWARD drops it, as it drops one from the LAN.
from_host_only() {
	local addr=$1 port=$2 want=$3 err
	poll_until 5000 probe_tcp "$addr" "$port" "$want" ||
		fail "the host does not reach $4 $addr:$port (it should answer '$want')"
	if err=$(run_in_gw web timeout -k 1 5 socat -u "TCP4:$addr:$port,connect-timeout=1" STDOUT </dev/null 2>&1); then
		fail "the namespace reached $4 $addr:$port, unpublished, past Docker's rules: '$err'
$(iptables-save -t filter | grep -E '^(:|-A (FORWARD|DOCKER-USER) )')"
	fi
	case $err in
	*"timed out"*) ;;
	*) fail "from the namespace $4 $addr:$port failed, but did not time out: $err" ;;
	esac
}

# published_answers : one quick connection from the namespace to Docker's
# published port on the host's address gets the container's answer (from
# whatever address nsgate's masquerade toward docker0 gave it).
published_answers() {
	local got
	got=$(run_in_gw web timeout -k 1 3 socat -T1 -u "TCP4:$UPLINK_ADDR:$DOCKER_PORT,connect-timeout=0.2" STDOUT </dev/null 2>/dev/null)
	[[ $got == "docker "?* ]]
}

# published_from_gw WHEN : Docker's published port on the host's address
# answers the namespace: DNATed to the container, Docker's own FORWARD rules
# let it through.
published_from_gw() {
	poll_until 3000 published_answers ||
		fail "docker's published port $UPLINK_ADDR:$DOCKER_PORT does not answer the namespace ($1):
$(dk ps -a 2>&1; dk logs pub 2>&1 | tail -n 5)"
}

# The namespace gets no further into Docker than the LAN does: containers'
# unpublished ports, on docker0 and on a network of its own (br-*), time
# out from it; the published port answers it. Without nsgate's RETURNs
# (what the previous nsgate left) it got through; gc puts them back.
docker_isolation() {
	local pub_addr net_addr
	pub_addr=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' pub)
	[ -n "$pub_addr" ] || fail "docker inspect gave no address for container pub"
	from_host_only "$pub_addr" "$HIDDEN_PORT" hidden "container pub (docker0)"
	published_from_gw "up"
	# A network of its own: bridge br-<id>.
	must dk network create lab-net >/dev/null
	dk run -d --name net1 --network lab-net lab/mini \
		/bin/socat TCP4-LISTEN:80,fork,reuseaddr 'SYSTEM:echo net1' >/dev/null ||
		fail "docker run on network lab-net failed: $(tail -n 5 "$DOCKER_LOG")"
	net_addr=$(dk inspect -f '{{(index .NetworkSettings.Networks "lab-net").IPAddress}}' net1)
	[ "$(ip -o link show type bridge | grep -cE ': br-[0-9a-f]+:')" -ge 1 ] ||
		fail "docker network create made no br-* bridge: $(ip -o link show type bridge)"
	from_host_only "$net_addr" 80 net1 "container net1 (lab-net, br-*)"
	# What the previous nsgate left: the accepts alone. The namespace got
	# through to the container; gc (as up and watch) puts the RETURNs back.
	must iptables -D DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN
	must iptables -D DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN
	probe_tcp "$pub_addr" "$HIDDEN_PORT" hidden run_in_gw web ||
		fail "without nsgate's RETURNs the namespace did not reach $pub_addr:$HIDDEN_PORT: the check above proves nothing"
	probe_tcp "$net_addr" 80 net1 run_in_gw web ||
		fail "without nsgate's RETURNs the namespace did not reach $net_addr:80: the check above proves nothing"
	expect_exit 0 nsg gc
	assert_docker_user_rules
	from_host_only "$pub_addr" "$HIDDEN_PORT" hidden "container pub (docker0), after gc"
	from_host_only "$net_addr" 80 net1 "container net1 (lab-net, br-*), after gc"
	published_from_gw "after gc"
	gateway_works || fail "the gateway stopped working after gc put the RETURNs back"
	must dk rm -f net1 >/dev/null
	must dk network rm lab-net >/dev/null
	pass "Docker's isolation holds: unpublished container ports on docker0 and br-* time out from the namespace (answer the host), the published port answers it; gc put the RETURNs the previous nsgate lacked back"
}

# watch_start / watch_stop : `nsgate watch` in the background; it must say
# it listens, survive, and stop on SIGTERM with exit 0.
watch_start() {
	start_nsgate_bg "$WLOG" watch
	WATCH=$BG_PID
	wait_for grep -w listening "$WLOG" || fail "watch never said it listens: $(cat "$WLOG")"
}
watch_stop() {
	local rc
	pid_exited "$WATCH" && fail "watch died: $(cat "$WLOG")"
	kill -TERM "$WATCH"
	poll_until 5000 pid_exited "$WATCH" || fail "watch did not stop within 5 s of SIGTERM"
	wait "$WATCH"
	rc=$?
	[ "$rc" = 0 ] || fail "watch exited $rc on SIGTERM: $(cat "$WLOG")"
}

# gateway_back WHAT : within 1 s of dockerd answering, the gateway works both
# ways again (time in $GW_MS), nsgate's rules are in DOCKER-USER, and once
# Docker's container is back its port works too.
gateway_back() {
	poll_until 1000 gateway_works ||
		fail "gateway dead 1 s after dockerd was ready ($1; dockerd took $DOCKER_START_MS ms):
$(iptables-save -t filter | grep -E '^(:|-A (FORWARD|DOCKER-USER) )')
  watch log: $(cat "$WLOG")"
	GW_MS=$POLL_MS
	# Where they are, also within that second: if nsgate opened FORWARD
	# while Docker was starting (DOCKER-USER not made yet), watch must move
	# them into DOCKER-USER once Docker made it.
	assert_docker_user_rules $((GW_MS < 1000 ? 1000 - GW_MS : 0))
	poll_until 15000 docker_port_works || fail "docker's port $DOCKER_PORT did not come back ($1)"
	gateway_works || fail "gateway stopped working once docker's container was back ($1)"
	published_from_gw "$1"
}

# dockerd restarts (SIGTERM, as `systemctl restart docker`) under watch.
docker_restarts() {
	watch_start
	docker_restart
	gateway_back "restart"
	watch_stop
	pass "dockerd restarted (ready in $DOCKER_START_MS ms) under watch: gateway works $GW_MS ms later, docker's port too"
}

# down : nothing of nsgate is left; iptables-save (nft, legacy, ip6) is
# Docker's layout as it was before the first up.
gateway_down() {
	local after
	down_ok web
	assert_gone web
	nft list table inet nsgate >/dev/null 2>&1 && fail "table inet nsgate is left after the last down"
	after=$(ipt_layout)
	[ "$after" = "$BEFORE" ] || fail "iptables-save differs from before up ($1):
$(diff <(echo "$BEFORE") <(echo "$after") | sed 's/^/    /')"
	# Docker turned ip_forward on before up; nsgate must leave it so.
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "down turned ip_forward off under dockerd ($1)"
	docker_port_works || fail "docker's port $DOCKER_PORT stopped answering after down ($1)"
	pass "down ($1): iptables-save as before up; docker's port and ip_forward untouched"
}

# The boot order where nsgate comes first: a gateway is up on a host with no
# filter table at all and forwarding off but where nsgate turned it on (its
# link, the uplink up0), then dockerd starts (on a host where it has run
# before: its image and container are kept), finds ip_forward off, turns it
# on and sets FORWARD's policy to DROP: watch opens DOCKER-USER within 1 s of
# Docker being ready.
docker_starts_after_up() {
	docker_stop
	# What a reboot leaves: no rules, no docker0, forwarding off (dockerd's
	# state is kept).
	must nft delete table ip filter
	must nft delete table ip nat
	nft delete table ip6 filter 2>/dev/null
	nft delete table ip6 nat 2>/dev/null
	ip link del docker0 2>/dev/null
	must sysctl -qw net.ipv4.ip_forward=0
	up_ok web --publish 8080:80
	start_tagged_server_in web tcp 80 web
	expect_internet run_in_gw web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	watch_start
	docker_start
	assert_docker_layout
	gateway_back "dockerd started after up"
	watch_stop
	pass "dockerd started after up (ready in $DOCKER_START_MS ms): gateway works $GW_MS ms later, rules in DOCKER-USER"
}

docker_up
gateway_up
docker_isolation
docker_restarts
gateway_down "after the restart"
docker_starts_after_up
gateway_down "dockerd started after up"
docker_teardown
note "dockerd start times in the lab: first $DOCKER_FIRST_MS ms, last $DOCKER_START_MS ms"
