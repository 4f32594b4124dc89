# SPDX-License-Identifier: MIT
# test-completion.sh: the bash completion (conf/nsgate.bash-completion)
# offers each command's options exactly as `nsgate help COMMAND` names
# them, the gateways and networks that exist, the values of --dns,
# --firewall, --ipv6, interfaces, `ip netns` names and PIDs for --netns,
# and the user's command after `--`.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

COMPLETION=$LAB_DIR/../../conf/nsgate.bash-completion
[ -r "$COMPLETION" ] || fail "no completion script at $COMPLETION"
# shellcheck source=conf/nsgate.bash-completion
. "$COMPLETION"

# offers LINE : what completing the last word of LINE offers, one a line,
# sorted (a LINE ending in a space completes an empty word).
offers() {
	local line=$1
	read -r -a COMP_WORDS <<<"$line"
	[ "${line: -1}" = " " ] && COMP_WORDS+=("")
	COMP_WORDS[0]=$NSGATE
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_nsgate
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u
}

# expect_offers LINE WANT... : completing LINE offers exactly WANT.
expect_offers() {
	local line=$1 got want
	shift
	got=$(offers "$line" | tr '\n' ' ')
	want=""
	[ $# -eq 0 ] || want=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "completing '$line': offered '$got', expected '$want'"
}

# expect_offers_some LINE WORD... : completing LINE offers at least WORD...
expect_offers_some() {
	local line=$1 got w
	shift
	got=$(offers "$line")
	for w in "$@"; do
		grep -qx -- "$w" <<<"$got" || fail "completing '$line': '$w' not offered in: $(tr '\n' ' ' <<<"$got")"
	done
}

options_match_help() {
	local c help comp extra
	for c in $_nsgate_cmds; do
		help=$("$NSGATE" help "$c" | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u)
		comp=$(offers "nsgate $c -" | grep -vx -- --help)
		# Mentioned in the text, not options of the command: up's --network
		# in network's, the top-level --version in version's.
		extra=""
		case $c in network) extra=--network ;; version) extra=--version ;; esac
		help=$(grep -vx -- --help <<<"$help" | grep -vx -- "${extra:-^$}")
		[ "$help" = "$comp" ] || fail "nsgate $c: help names '$(tr '\n' ' ' <<<"$help")', completion offers '$(tr '\n' ' ' <<<"$comp")'"
	done
	expect_offers "nsgate " $_nsgate_cmds --help --version
	expect_offers "nsgate ne" network
	expect_offers "nsgate help sh" show
	pass "commands, and each command's options exactly as 'nsgate help COMMAND' names them"
}

names() {
	must ip netns add held
	up_ok web
	up_ok api --network front
	expect_exit 0 nsg network create back
	expect_offers "nsgate down " api web
	expect_offers "nsgate show w" web
	expect_offers "nsgate exec " api web
	expect_offers "nsgate publish web " # SPEC: nothing to offer
	expect_offers "nsgate up api --network " back front
	expect_offers "nsgate network rm " back front
	expect_offers "nsgate network " create rm list
	expect_offers "nsgate up x --dns " auto none
	expect_offers "nsgate run --firewall " auto none
	expect_offers "nsgate up x --ipv6 " auto on off
	expect_offers_some "nsgate up x --uplink " up0 lo nsg-web
	expect_offers_some "nsgate up x --lan u" up0
	expect_offers_some "nsgate up x --netns " held inet "$$" 1
	expect_offers_some "nsgate run --user ro" root
	expect_offers_some "nsgate run --pid -- bas" bash
	expect_offers_some "nsgate exec web -- ls /r" /run
	# A value option's value is not a positional: NAME is still offered.
	expect_offers "nsgate doctor " api web
	expect_offers "nsgate up --subnet 10.9.0.0/30 " api web
	down_ok api
	expect_exit 0 nsg network rm back
	down_ok web
	must ip netns del held
	expect_offers "nsgate down "
	assert_no_residue web api
	pass "gateway and network names, --dns/--firewall/--ipv6 values, interfaces, netns names and PIDs, users, the command after --"
}

options_match_help
names
