# SPDX-License-Identifier: MIT
# test-version.sh: `nsgate version` on one line (version, commit, kernel,
# +/-/? features) and as JSON; `--version` the first part only; features
# that cannot be asked unprivileged are "?", never a guess; asking changes
# nothing (no table, no module sysctl, no conntrack loaded by it).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools setpriv jq

FEATURES="nf_tables nat ipv6_nat sctp forward6_per_interface firewalld"

line_format() {
	local want_version re f
	want_version=$(sed -n 's/^project(nsgate VERSION \([0-9.]*\) .*/\1/p' "$LAB_DIR/../../CMakeLists.txt")
	[ -n "$want_version" ] || fail "no version in CMakeLists.txt"
	expect_exit 0 nsg version
	re="^nsgate $want_version \\(commit ([0-9a-f]{7,}(-dirty)?|unknown)\\) kernel $(uname -r | sed 's/[.+]/\\&/g')"
	for f in $FEATURES; do re="$re [-+?]$f"; done
	grep -Eqx "$re" <<<"$LAST_OUT" || fail "nsgate version: '$LAST_OUT' does not match '$re'"
	[ "$(grep -c '' <<<"$LAST_OUT")" = 1 ] || fail "nsgate version printed more than one line"
	# The lab is root with nf_tables: these are known, and present.
	for f in nf_tables nat; do
		grep -q " +$f\\b" <<<"$LAST_OUT" || fail "nsgate version as root: no +$f: $LAST_OUT"
	done
	expect_exit 0 nsg --version
	[ "$LAST_OUT" = "$(sed 's/ kernel .*//' <<<"$(nsg version)")" ] ||
		fail "--version: '$LAST_OUT' is not the first part of 'nsgate version'"
	pass "version: one line, $LAST_OUT + kernel and ${FEATURES// /, } as +/-/?"
}

json_doc() {
	local doc
	expect_exit 0 nsg version --json
	doc=$LAST_OUT
	jq -e --arg k "$(uname -r)" --arg f "$FEATURES" '.schema == 1 and (.version | type) == "string"
		and (.commit | type) == "string" and .kernel == $k
		and (.features | keys | sort) == ($f | split(" ") | sort)
		and ([.features[] | select(. != true and . != false and . != null)] | length) == 0
		and .features.nf_tables == true' <<<"$doc" >/dev/null || fail "version --json: $doc"
	# The line and the document say the same.
	for f in $FEATURES; do
		case $(jq -r ".features.$f" <<<"$doc") in
		true) want="+$f" ;; false) want="-$f" ;; null) want="?$f" ;;
		esac
		grep -q " $want\\b" <<<"$(nsg version)" || fail "version --json says $f is $want, the line does not"
	done
	expect_exit 2 nsg version --bogus
	assert_error_line
	pass "version --json: schema 1, version, commit, kernel, the same features; a bad argument exits 2"
}

# Without CAP_NET_ADMIN nftables cannot be asked: "?", not "-".
unprivileged() {
	local bin=$LAB_TMP/nsgate-copy out
	cp "$NSGATE" "$bin" && chmod 755 "$bin" && chmod 755 "$LAB_TMP" || fail "copy of nsgate"
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$bin" version 2>&1) ||
		fail "nsgate version as nobody failed: $out"
	for f in nf_tables nat ipv6_nat; do
		grep -q " ?$f\\b" <<<"$out" || fail "as nobody, $f is not '?': $out"
	done
	pass "as nobody: nf_tables, nat, ipv6_nat unknown (?), the rest still asked"
}

# NSGATE_TEST_NO_FORCE_FORWARDING: the older kernels' path is what it reports.
forwarding() {
	expect_exit 0 env NSGATE_TEST_NO_FORCE_FORWARDING=1 "$NSGATE" version
	grep -q ' -forward6_per_interface\b' <<<"$LAST_OUT" ||
		fail "without force_forwarding: $LAST_OUT"
	pass "a kernel without force_forwarding reports -forward6_per_interface"
}

nothing_changed() {
	nsg version >/dev/null
	nsg version --json >/dev/null
	[ -z "$(nft list ruleset)" ] || fail "nsgate version left nftables state: $(nft list ruleset)"
	assert_no_residue
	pass "asking changed nothing: no nftables state, no files"
}

line_format
json_doc
unprivileged
forwarding
nothing_changed
