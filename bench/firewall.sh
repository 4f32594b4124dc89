#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/firewall.sh OLD_NSGATE NEW_NSGATE [ROUNDS]: what looking for other
# firewalls (and opening them) adds to `up` and `down`, on hosts set up as
# real ones are, each in a hermetic lab of its own (bench/ab.sh: commands
# interleaved A B B A, medians): a plain host, Docker's iptables-nft layout
# (FORWARD policy DROP, DOCKER-USER), iptables-legacy's FORWARD DROP, and a
# running firewalld (private D-Bus bus, tests/lab/firewalld.sh). OLD is a
# build from before nsgate knew of other firewalls; another gateway is up
# throughout, so NEW's rules are in place and each `up` only looks.
# Writes the table to bench/results/extra/firewall-up.txt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: bench/firewall.sh OLD_NSGATE NEW_NSGATE [ROUNDS]" >&2; exit 2; }
old=$1 new=$2 rounds=${3:-30}
out=$top/bench/results/extra/firewall-up.txt
mkdir -p "$(dirname "$out")"
docker='iptables-nft -N DOCKER-USER; iptables-nft -A DOCKER-USER -j RETURN; iptables-nft -I FORWARD -j DOCKER-USER; iptables-nft -P FORWARD DROP'
legacy='iptables-legacy -N DOCKER-USER; iptables-legacy -A DOCKER-USER -j RETURN; iptables-legacy -I FORWARD -j DOCKER-USER; iptables-legacy -P FORWARD DROP'
firewalld='. "$LAB_DIR/firewalld.sh"; fwd_start'
{
	echo "# bench/firewall.sh $(date -u +%F), $rounds rounds ABBA, medians in ms; A = $(basename "$(dirname "$(dirname "$old")")"), B = this build"
	for host in plain docker legacy firewalld; do
		case $host in
		plain) setup= ;;
		docker) setup=$docker ;;
		legacy) setup=$legacy ;;
		firewalld) setup=$firewalld ;;
		esac
		echo "## $host"
		AB_SETUP=$setup AB_OPS="up down" "$top/bench/ab.sh" "$old" "$new" "$rounds" |
			grep -E '^(operation|up|down)'
	done
} | tee "$out"
