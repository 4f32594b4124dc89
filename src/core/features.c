/* SPDX-License-Identifier: MIT */
/*
 * What the kernel and host offer nsgate (`nsgate version`), asked without
 * changing anything: nftables through batches the kernel checks and then
 * throws away (the same probes doctor makes), conntrack through its
 * sysctls, firewalld through the system bus's NameHasOwner. Nothing is
 * loaded: a socket(IPPROTO_SCTP) would load sctp as a side effect.
 */
#include <sys/stat.h>
#include <sys/utsname.h>

#include "core.h"

/* One probe of ruleset.h, in a batch never committed. -EPERM: not
 * privileged to ask (CAP_NET_ADMIN), so not known. */
static enum feature_state nft_probe(struct session *s, enum ruleset_probe p)
{
	int r;

	nftx_batch_begin(s->nft);
	r = ruleset_queue_probe(s->nft, p);
	if (r == 0)
		r = nftx_batch_check(s->nft, NULL);
	if (r == 0)
		return FEATURE_YES;
	return r == -EPERM || r == -EACCES ? FEATURE_UNKNOWN : FEATURE_NO;
}

/* Whether conntrack tracks SCTP (and so NAT translates it: published
 * sctp ports work): its sysctls are there once nf_conntrack is loaded,
 * and before that it cannot be told. The service's own SCTP sockets are
 * the namespace's business. */
static enum feature_state sctp_state(void)
{
	struct stat st;

	if (stat("/proc/sys/net/netfilter/nf_conntrack_sctp_timeout_established", &st) == 0)
		return FEATURE_YES;
	return stat("/proc/sys/net/netfilter/nf_conntrack_max", &st) == 0 ? FEATURE_NO
									  : FEATURE_UNKNOWN;
}

static enum feature_state firewalld_state(void)
{
	struct firewalld *fw = NULL;
	int r = firewalld_open(&fw, NULL);

	if (r == 0)
		r = firewalld_running(fw, NULL);
	firewalld_close(fw);
	/* No system bus at all: nothing runs on it. */
	return r > 0 ? FEATURE_YES : FEATURE_NO;
}

void gateway_features(struct gw_features *ret)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	struct utsname u;
	struct stat st;
	bool ipv6 = stat("/proc/sys/net/ipv6/conf/all", &st) == 0;

	*ret = (struct gw_features){ .nf_tables = FEATURE_UNKNOWN, .nat = FEATURE_UNKNOWN,
				     .ipv6_nat = FEATURE_UNKNOWN };
	if (uname(&u) == 0)
		snprintf(ret->kernel, sizeof(ret->kernel), "%s", u.release);
	if (session_open(&s, SESSION_NFT, NULL) == 0) {
		ret->nf_tables = nft_probe(&s, RULESET_PROBE_TABLE);
		ret->nat = ret->nf_tables == FEATURE_YES ? nft_probe(&s, RULESET_PROBE_NAT)
							 : ret->nf_tables;
	}
	/* The inet nat chain hooks both families: with IPv6 in the kernel,
	 * what masquerades IPv4 masquerades IPv6. */
	ret->ipv6_nat = !ipv6 ? FEATURE_NO : ret->nat;
	ret->sctp = sctp_state();
	ret->forward6_per_interface = forward6_per_interface() ? FEATURE_YES : FEATURE_NO;
	ret->firewalld = firewalld_state();
}
