/* SPDX-License-Identifier: MIT */
/*
 * IPv4 forwarding, per interface. The kernel forwards a packet when the
 * interface it came in on has net.ipv4.conf.IFACE.forwarding on, so a
 * gateway needs it on its veth (for the namespace's traffic) and on the
 * uplinks its replies and published ports come in on. nsgate never writes
 * the global switch (net.ipv4.ip_forward, conf.all.forwarding): a write
 * there sets every interface's value, and turning it off again would cut off
 * whatever another tool (docker) started to rely on meanwhile.
 *
 * An uplink nsgate turned on has its old value saved (state.h) and is in the
 * fwd_guard set, whose rule keeps the host from routing anything else that
 * arrives there. With the last gateway the saved values are written back,
 * unless the global switch has been turned on since: then every interface
 * forwards for someone else, and nsgate forgets what it saved.
 */
#include "core.h"

static void forwarding_key(const char *ifname, char key[64])
{
	snprintf(key, 64, SYSCTL_IF_FORWARDING, ifname);
}

int forward_global(void)
{
	char cur[16];
	int r = sysctl_read(SYSCTL_IP_FORWARD, cur, sizeof(cur));

	if (r < 0)
		return r;
	return strcmp(cur, "0") != 0;
}

/* Write back ifname's saved value if the 1 nsgate wrote is still there (one
 * turned off by hand stays off), and forget it either way. */
static void uplink_restore(const char *ifname)
{
	char key[64], old[16], cur[16];

	forwarding_key(ifname, key);
	if (state_forward_get(AF_INET, ifname, old, sizeof(old)) == 0 && strcmp(old, "1") &&
	    sysctl_read(key, cur, sizeof(cur)) == 0 && !strcmp(cur, "1"))
		sysctl_write(key, old);
	state_forward_forget(AF_INET, ifname);
}

/* fwd_guard holds exactly the uplinks with a saved value: the others' go,
 * in a transaction of their own, only when there are any. */
static int guard_prune(struct nftx *nft, struct nsg_err *e)
{
	_cleanup_free_ char (*keep)[GW_NAME_MAX + 1] = NULL;
	int n = state_forward_names(AF_INET, &keep), r;
	size_t found;

	if (n < 0)
		return nsg_fail(e, n, NULL, STATE_DIR "/forwarding");
	nftx_batch_begin(nft);
	r = ruleset_queue_fwd_guard_prune(nft, AF_INET, (const char (*)[GW_NAME_MAX + 1])keep, n, &found);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading nftables set fwd_guard");
	return found ? nftx_batch_commit(nft, e) : 0;
}

void forward_settle(struct session *s, bool last)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	int n, on;

	/* An older nsgate saved the global switch here. Whatever it is now
	 * stays: someone may rely on it. */
	state_forward_legacy_drop();
	n = state_forward_names(AF_INET, &names);
	if (n <= 0)
		return;
	on = forward_global();
	if (on < 0 || (!on && !last))
		return;
	for (int i = 0; i < n; i++) {
		if (on)
			state_forward_forget(AF_INET, names[i]);
		else
			uplink_restore(names[i]);
	}
	guard_prune(s->nft, NULL);
}

/* Turn ifname's forwarding on unless it is on already (then whoever turned
 * it on keeps it: nsgate too, whose saved value is there from before). */
static int uplink_on(const char *ifname, struct fwd_change *ch, struct nsg_err *e)
{
	char key[64], cur[16];
	int r;

	/* A default route through a gateway's veth: forwarding is on there. */
	if (!strncmp(ifname, GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX)))
		return 0;
	forwarding_key(ifname, key);
	r = sysctl_read(key, cur, sizeof(cur));
	if (r < 0)
		return nsg_fail(e, r, NULL, "sysctl %s", key);
	if (strcmp(cur, "0"))
		return 0;
	/* Saved first: a crash between the two leaves a value to restore. */
	r = state_forward_save(AF_INET, ifname, cur);
	if (r < 0)
		return nsg_fail(e, r, NULL, STATE_DIR "/forwarding/%s.saved", ifname);
	r = sysctl_write(key, "1");
	if (r < 0) {
		state_forward_forget(AF_INET, ifname);
		return nsg_fail(e, r, NULL, "sysctl %s", key);
	}
	snprintf(ch->turned[ch->n++], sizeof(ch->turned[0]), "%.15s", ifname);
	return 0;
}

int forward_uplinks_on(struct session *s, const char *uplink, struct fwd_change *ch,
		       struct nsg_err *e)
{
	char ifs[LINK_DEFAULT_IFACES_MAX][IF_NAMESIZE];
	int n, on, r = 0;

	memset(ch, 0, sizeof(*ch));
	on = forward_global();
	if (on < 0)
		return nsg_fail(e, on, NULL, "sysctl net.ipv4.ip_forward");
	if (on) {
		/* Every interface forwards already; what nsgate saved is moot. */
		forward_settle(s, false);
		return 0;
	}
	state_forward_legacy_drop();
	if (uplink[0]) {
		snprintf(ifs[0], sizeof(ifs[0]), "%.15s", uplink);
		n = 1;
	} else {
		/* No default route: no uplink; the host and hairpin paths need none. */
		n = link_default_ifnames(s->host, ifs, ARRAY_SIZE(ifs));
		if (n < 0)
			return nsg_fail(e, n, NULL, "reading the host's default routes");
	}
	for (int i = 0; i < n && r == 0; i++)
		r = uplink_on(ifs[i], ch, e);
	if (r < 0)
		forward_uplinks_undo(s, ch);
	return r;
}

void forward_uplinks_undo(struct session *s, struct fwd_change *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		uplink_restore(ch->turned[i]);
	if (ch->n)
		guard_prune(s->nft, NULL);
	ch->n = 0;
}

int forward_guard_queue(struct nftx *nft)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	int n = state_forward_names(AF_INET, &names), r;

	if (n < 0)
		return n;
	r = ruleset_queue_fwd_guard(nft, AF_INET, (const char (*)[GW_NAME_MAX + 1])names, n, false);
	return r < 0 ? r : forward6_guard_queue(nft);
}
