# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# docker.sh: a real dockerd (Debian's docker.io) inside the hermetic lab.
# Sourced by tests/lab/test-*docker*.sh after lib.sh, so only ever inside
# lab.sh's network, mount and PID namespaces.
#
# How dockerd is made to touch nothing of the machine:
#   - network: it runs in the lab's network namespace (checked), so its
#     bridge docker0, its iptables-nft rules (filter FORWARD policy DROP,
#     DOCKER-USER, ...) and its sysctls are the lab's;
#   - files: every path it writes is under $DOCKER_DIR, a directory of the
#     lab's tmpfs /run: --data-root (images, containers and its containerd's
#     root), --exec-root (its containerd's socket and state, the shims),
#     --pidfile, the API socket, --config-file; the config file moves the
#     libtrust key 20.10 would otherwise write to /etc/docker/key.json
#     ("deprecated-key-path"); TMPDIR and the client's DOCKER_CONFIG too.
#     As a guard, /etc and /var are remounted read-only in the lab's mount
#     namespace (their tmpfs and bind submounts, /etc/netns and
#     /etc/resolv.conf, stay writable): a write to /etc/docker or
#     /var/lib/docker fails instead of landing on the machine's disk;
#   - containerd: dockerd starts its own (no system containerd socket
#     exists under the lab's /run), with state under --exec-root;
#   - cgroups: the lab's fresh sysfs has no cgroup mounted, and runc needs
#     one: cgroup2 is mounted on the lab's /sys/fs/cgroup. That hierarchy is
#     the machine's, so containers go under a cgroup of this lab's own
#     (--cgroup-parent, named after the lab's network namespace), removed at
#     the end (and stale ones of killed labs at the next start);
#   - images: never pulled (there is no network): docker_mini_image imports
#     a rootfs of socat and dash copied from the lab host.

DOCKER_DIR=$LAB_TMP/docker
DOCKER_SOCK=$DOCKER_DIR/docker.sock
DOCKER_LOG=$DOCKER_DIR/dockerd.log
DOCKER_PIDFILE=$DOCKER_DIR/dockerd.pid
DOCKER_CLI=/usr/bin/docker          # docker.io's client (another may be first in PATH)
DOCKER_READY_SECS=${DOCKER_READY_SECS:-60}
DOCKER_CG_PREFIX=nsgate-lab-docker-
DOCKER_CGROUP=$DOCKER_CG_PREFIX$(stat -L -c %i /proc/self/ns/net)
DOCKER_PID=

# dk ARGS... : the docker client against the lab's dockerd, bounded in time.
dk() {
	DOCKER_HOST=unix://$DOCKER_SOCK DOCKER_CONFIG=$DOCKER_DIR/client \
		timeout -k 2 60 "$DOCKER_CLI" "$@"
}

# docker_ready : the daemon answers on its socket (what a ready poll asks).
docker_ready() { [ -n "$(dk version --format '{{.Server.Version}}' 2>/dev/null)" ]; }

# machine_paths : what is in the machine's own Docker and containerd paths
# (which dockerd would use without the options docker_start gives it).
machine_paths() {
	find /etc/docker /var/lib/docker /var/lib/containerd /etc/containerd -maxdepth 2 2>/dev/null | LC_ALL=C sort
}

# docker_guard_paths : /etc and /var read-only in this lab's mount namespace.
docker_guard_paths() {
	local d
	for d in /etc /var; do
		mount --rbind "$d" "$d" || fail "docker: bind $d onto itself"
		mount -o remount,bind,ro "$d" || fail "docker: remount $d read-only"
		# access(W_OK) says EROFS on a read-only mount: nothing is written to try.
		[ -w "$d" ] && fail "docker: $d is still writable"
	done
	return 0
}

# docker_cgroup_clean : remove this lab's container cgroups and those left by
# labs that were killed (an rmdir fails on a cgroup still in use: harmless).
docker_cgroup_clean() {
	local d
	for d in /sys/fs/cgroup/"$DOCKER_CG_PREFIX"*; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

# docker_setup : check the tools, guard the machine's paths, mount cgroup2,
# write the config. Once per test, before docker_start.
docker_setup() {
	need_tools dockerd containerd runc docker-proxy iptables iptables-save ip6tables-save tar ldd dash pgrep
	[ -x "$DOCKER_CLI" ] || fail "$DOCKER_CLI is not installed (Debian package docker.io)"
	case $(iptables -V) in
	*nf_tables*) ;;
	*) fail "iptables is not iptables-nft ($(iptables -V)): this test is about Docker's iptables-nft layout" ;;
	esac
	[ -e /run/containerd/containerd.sock ] &&
		fail "docker: a containerd socket under the lab's /run: dockerd would use it"
	docker_guard_paths
	if [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
		mount -t cgroup2 lab-cgroup2 /sys/fs/cgroup ||
			fail "docker: cannot mount cgroup2 on the lab's /sys/fs/cgroup (runc needs it)"
	fi
	docker_cgroup_clean
	DOCKER_MACHINE_PATHS=$(machine_paths)
	mkdir -p "$DOCKER_DIR"/data "$DOCKER_DIR"/exec "$DOCKER_DIR"/tmp "$DOCKER_DIR"/client ||
		fail "docker: mkdir $DOCKER_DIR"
	printf '{ "deprecated-key-path": "%s" }\n' "$DOCKER_DIR/key.json" >"$DOCKER_DIR/daemon.json"
	trap docker_teardown EXIT
}

# docker_start : start dockerd and wait (bounded) until it answers; the time
# it took is in $DOCKER_START_MS.
docker_start() {
	local t0 i
	t0=$(date +%s%N)
	env PATH=/usr/sbin:/usr/bin:/sbin:/bin TMPDIR="$DOCKER_DIR/tmp" DOCKER_TMPDIR="$DOCKER_DIR/tmp" \
		dockerd --config-file "$DOCKER_DIR/daemon.json" \
		--data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
		--pidfile "$DOCKER_PIDFILE" -H "unix://$DOCKER_SOCK" \
		--storage-driver vfs --exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "/$DOCKER_CGROUP" --iptables=true \
		>>"$DOCKER_LOG" 2>&1 &
	DOCKER_PID=$!
	for i in $(seq $((DOCKER_READY_SECS * 20))); do
		docker_ready && break
		pid_exited "$DOCKER_PID" && fail "dockerd exited while starting: $(tail -n 20 "$DOCKER_LOG")"
		sleep 0.05
	done
	docker_ready || fail "dockerd not ready within ${DOCKER_READY_SECS} s (try $i): $(tail -n 20 "$DOCKER_LOG")"
	# shellcheck disable=SC2034 # the test reports it
	DOCKER_START_MS=$((($(date +%s%N) - t0) / 1000000))
}

# pid_exited PID : the process is gone or a zombie, from one read of its
# status (bash reaps background jobs by itself, so the file can vanish
# between two reads: lib.sh's proc_gone can see a zombie, then nothing).
pid_exited() {
	local st
	st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}

# docker_stop : stop dockerd as its service would (SIGTERM: it stops its
# containers and its containerd), bounded (30 s); SIGKILL if it hangs.
docker_stop() {
	local i
	[ -n "$DOCKER_PID" ] || return 0
	kill -TERM "$DOCKER_PID" 2>/dev/null
	for i in $(seq 3000); do
		pid_exited "$DOCKER_PID" && break
		sleep 0.01
	done
	if ! pid_exited "$DOCKER_PID"; then
		note "dockerd ignored SIGTERM for 30 s (try $i): killed"
		kill -KILL "$DOCKER_PID" 2>/dev/null
	fi
	wait "$DOCKER_PID" 2>/dev/null
	DOCKER_PID=
}

# docker_restart : stop and start dockerd; $DOCKER_START_MS is the start's.
docker_restart() {
	docker_stop
	docker_start
}

# docker_teardown : at the test's end, whatever its verdict: containers
# removed, dockerd stopped, this lab's cgroups gone. (The PID namespace would
# kill the processes anyway, but not remove the cgroups.)
docker_teardown() {
	local ids
	if [ -n "$DOCKER_PID" ] && ! pid_exited "$DOCKER_PID"; then
		ids=$(dk ps -aq 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1
		docker_stop
	fi
	docker_cgroup_clean
}

# docker_assert_private : dockerd and its containerd run in the lab's network
# namespace and keep their state only under $DOCKER_DIR; nothing appeared in
# the machine's /etc/docker, /var/lib/docker, /var/lib/containerd.
docker_assert_private() {
	local lab_net pid ctr root p
	lab_net=$(stat -L -c %i /proc/self/ns/net)
	pid=$(cat "$DOCKER_PIDFILE" 2>/dev/null)
	[ "$pid" = "$DOCKER_PID" ] || fail "docker: pidfile says '$pid', dockerd is $DOCKER_PID"
	ctr=$(pgrep -P "$DOCKER_PID" -x containerd) || fail "docker: dockerd has no containerd child of its own"
	for p in "$DOCKER_PID" $ctr; do
		[ "$(stat -L -c %i "/proc/$p/ns/net")" = "$lab_net" ] ||
			fail "docker: process $p ($(cat "/proc/$p/comm")) is not in the lab's network namespace"
		[ "$(stat -L -c %i "/proc/$p/ns/net")" != "$NSGATE_LAB_OUTER_NETNS" ] ||
			fail "docker: process $p is in the machine's network namespace"
	done
	tr '\0' '\n' <"/proc/$ctr/cmdline" | grep -xF "$DOCKER_DIR/exec/containerd/containerd.toml" >/dev/null ||
		fail "docker: containerd's config is not under $DOCKER_DIR: $(tr '\0' ' ' <"/proc/$ctr/cmdline")"
	[ "$(grep -cE "^(root|state) = \"$DOCKER_DIR/" "$DOCKER_DIR/exec/containerd/containerd.toml")" = 2 ] ||
		fail "docker: containerd's root/state not under $DOCKER_DIR: $(cat "$DOCKER_DIR/exec/containerd/containerd.toml")"
	root=$(dk info --format '{{.DockerRootDir}} {{.Driver}} {{.CgroupDriver}}')
	[ "$root" = "$DOCKER_DIR/data vfs cgroupfs" ] || fail "docker: info says root, driver, cgroups '$root'"
	[ "$(machine_paths)" = "$DOCKER_MACHINE_PATHS" ] ||
		fail "docker: the machine's Docker paths changed: $(machine_paths)"
	return 0
}

# docker_mini_image : import lab/mini, a rootfs of socat and dash (/bin/sh)
# with the libraries they load, copied from the lab host.
docker_mini_image() {
	local r=$DOCKER_DIR/rootfs b l
	mkdir -p "$r/bin" "$r/tmp" "$r/etc"
	for b in "$(command -v socat)" "$(command -v dash)"; do
		[ -x "$b" ] || fail "docker: socat or dash missing for the container image"
		cp "$b" "$r/bin/" || fail "docker: copy $b"
		for l in $(ldd "$b" | grep -oE '/[^ ]+'); do
			mkdir -p "$r$(dirname "$l")" || fail "docker: mkdir for $l"
			cp -L "$l" "$r$l" || fail "docker: copy $l"
		done
	done
	ln -sf dash "$r/bin/sh"
	tar -C "$r" -c . | dk import - lab/mini >/dev/null || fail "docker: import of lab/mini failed"
}

