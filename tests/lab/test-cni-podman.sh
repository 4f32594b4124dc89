# SPDX-License-Identifier: MIT
# test-cni-podman.sh: a real client. Podman 4.3 with its CNI backend runs
# containers from a local root filesystem (busybox) on the network of
# conf/cni-nsgate.conflist ("type": "nsgate"; nsgate-cni installed as
# "nsgate" in a plugin directory of its own): the container reaches inet,
# inet reaches its published port, podman rm leaves nothing, nor do 50
# containers in a row.
# All podman state is on tmpfs mounts private to this lab.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools podman crun busybox jq socat
CNI=${NSGATE_CNI:-$(dirname "$NSGATE")/nsgate-cni}
[ -x "$CNI" ] || fail "nsgate-cni binary $CNI is missing (set NSGATE_CNI)"
P=$LAB_TMP/podman

# Podman's configuration, storage, caches (/var/lib/cni, /var/lib/containers)
# and runtime state (/run, the lab's already) on tmpfs: nothing of it
# outlives the lab or touches the machine's. crun runs the containers without
# cgroups (none are delegated here); it only wants a cgroup2 mount to see.
podman_lab() {
	local d
	must mount -t cgroup2 lab-cgroup2 /sys/fs/cgroup
	for d in /etc/containers /etc/cni /var/lib /var/tmp; do
		must mount -t tmpfs -o mode=755 lab-podman "$d"
	done
	mkdir -p "$P"/plugins "$P"/net.d "$P"/root "$P"/runroot "$P"/home "$P"/rootfs/bin "$P"/rootfs/www
	cp "$CNI" "$P/plugins/nsgate"
	cp "$(command -v busybox)" "$P/rootfs/bin/busybox"
	for d in sh true nc httpd sleep; do ln -s busybox "$P/rootfs/bin/$d"; done
	echo hello-nsgate >"$P/rootfs/www/index.html"
	cat >/etc/containers/containers.conf <<-EOF_CONF
	[containers]
	cgroups = "disabled"
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$P/events.log"
	runtime = "crun"
	[network]
	network_backend = "cni"
	cni_plugin_dirs = ["$P/plugins"]
	network_config_dir = "$P/net.d"
	default_network = "nsgate"
	EOF_CONF
	printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$P/root" "$P/runroot" \
		>/etc/containers/storage.conf
	echo '{"default": [{"type": "insecureAcceptAnything"}]}' >/etc/containers/policy.json
	# The example conflist as shipped (network "nsgate"), checked by a real client.
	cp "$LAB_DIR/../../conf/cni-nsgate.conflist" "$P/net.d/"
	export HOME=$P/home XDG_RUNTIME_DIR=$P/home XDG_CONFIG_HOME=$P/home
}
pod() { timeout -k 5 60 podman "$@"; }
cni_names() { nsg list --json | jq -r '.[].name | select(startswith("cni-"))' | sort; }
http_get() {
	ip netns exec inet timeout -k 1 8 socat -T3 - "TCP4:$UPLINK_ADDR:$1,connect-timeout=2" \
		<<<$'GET / HTTP/1.0\r\n\r\n' 2>/dev/null
}
web_answers() { http_get 8080 | grep -qx 'hello-nsgate'; }
# Nothing left: no container, no gateway, no namespace but inet, no link.
podman_clean() {
	[ -z "$(pod ps -aq)" ] || fail "podman still has containers: $(pod ps -a)"
	[ -z "$(cni_names)" ] || fail "gateways left: $(cni_names)"
	[ "$(ip netns list | awk '{print $1}')" = inet ] || fail "namespaces left: $(ip netns list)"
	assert_no_residue "$@"
}

podman_lab
start_server_in inet "$SERVER_PORT"

# The container's traffic leaves masqueraded; a published port answers inet.
one_container() {
	local seen name
	seen=$(pod run --rm --network nsgate --rootfs "$P/rootfs" /bin/nc -w 3 "$INET_ADDR" "$SERVER_PORT" </dev/null 2>"$LAB_TMP/pod.err")
	[ "$seen" = "$UPLINK_ADDR" ] || fail "container: inet saw '$seen', expected $UPLINK_ADDR: $(cat "$LAB_TMP/pod.err")"
	podman_clean
	pass "podman run --rm: the container reaches inet masqueraded as $UPLINK_ADDR; nothing left after"

	expect_exit 0 pod run -d --name web --network nsgate -p 8080:80 -p 9000-9002:9000-9002 \
		--rootfs "$P/rootfs" /bin/httpd -f -p 80 -h /www
	name=$(cni_names)
	[ "$(wc -w <<<"$name")" = 1 ] || fail "nsgate list: expected one cni- gateway, got '$name'"
	wait_for web_answers || fail "inet got no answer from $UPLINK_ADDR:8080: '$(http_get 8080)'"
	nsg show "$name" --json | jq -e '[.published[] | "\(.host_port)-\(.host_end)"] | sort == ["8080-8080", "9000-9002"]' >/dev/null ||
		fail "show $name: published is not 8080 and 9000-9002: $(nsg show "$name" --json | jq -c .published)"
	[ "$(nsg show "$name" --json | jq -r .status)" = up ] || fail "show $name: not up"
	expect_exit 0 pod rm -f web
	podman_clean "$name"
	pass "podman run -p 8080:80 -p 9000-9002:9000-9002: inet reaches 8080, the range is one mapping; podman rm -f leaves nothing"
}

# 50 containers up and down in a row, with a published port each.
many() {
	local i t0
	t0=$(date +%s)
	for i in $(seq 50); do
		pod run --rm --network nsgate -p 8080:80 --rootfs "$P/rootfs" /bin/true >"$LAB_TMP/pod.out" 2>&1 ||
			fail "container $i: $(cat "$LAB_TMP/pod.out")"
	done
	podman_clean
	pass "50 containers up and down (-p 8080:80 each, $(($(date +%s) - t0)) s) leave nothing"
}

one_container
many
