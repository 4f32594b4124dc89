/* SPDX-License-Identifier: MIT */
/*
 * IPv6 forwarding. Unlike IPv4's, the kernel's IPv6 forwarding switch has
 * a cost: with net.ipv6.conf.all.forwarding on, every interface with
 * accept_ra=1 ignores router advertisements, and a host whose default route
 * came from one loses it when that route expires (the most reported IPv6
 * bug of container tools: docker/for-linux#844, moby#43466, podman#6114).
 *
 * So, where the kernel has it (Linux 6.17), nsgate uses per-interface
 * forwarding: net.ipv6.conf.IFACE.force_forwarding forwards what comes in
 * on IFACE, whatever the global switch says, and leaves RA processing as it
 * was. A gateway's veth gets it with the link (it goes with it); the
 * uplinks (the interfaces of the host's IPv6 default routes, or --uplink),
 * where replies and published ports come in, get it with their old value
 * saved (state.h), and get it back with the last gateway, as IPv4's
 * forwarding does (forward.c).
 *
 * On older kernels the global switch is the only one: nsgate first moves
 * each interface that accepts RAs from accept_ra=1 to 2 ("accept them even
 * when forwarding"), then turns the switch on, and restores both at the
 * last gateway. A value someone changed since is left as they set it.
 */
#include <net/if.h>

#include "core.h"

#define FORCE_FORWARDING_ALL "net/ipv6/conf/all/force_forwarding"
#define IPV6_FORWARDING_ALL "net/ipv6/conf/all/forwarding"
/* The name the global switch's saved value goes under: no interface has it
 * (the kernel's own conf/all is there). */
#define ALL_NAME "all"

/* Set key to want on behalf of name, unless it has it already; the old
 * value saved first, so that a crash leaves it for gc. */
static int change(const char *name, const char *key, const char *want, struct fwd6_change *ch,
		  struct nsg_err *e)
{
	char cur[16], line[160];
	int r = sysctl_read(key, cur, sizeof(cur));

	if (r < 0)
		return nsg_fail(e, r, NULL, "sysctl %s", key);
	if (!strcmp(cur, want))
		return 0;
	if (ch->n >= ARRAY_SIZE(ch->turned))
		return nsg_fail(e, -E2BIG, "too many interfaces to change", "IPv6 forwarding");
	snprintf(line, sizeof(line), "%s %s %s", key, cur, want);
	r = state_forward_save(AF_INET6, name, line);
	if (r < 0)
		return nsg_fail(e, r, NULL, STATE_DIR "/forwarding/%s.saved6", name);
	r = sysctl_write(key, want);
	if (r < 0) {
		state_forward_forget(AF_INET6, name);
		return nsg_fail(e, r, NULL, "sysctl %s", key);
	}
	snprintf(ch->turned[ch->n++], sizeof(ch->turned[0]), "%.15s", name);
	return 0;
}

/* Write back name's saved value if what nsgate wrote is still there, and
 * forget it either way. */
static void restore(const char *name)
{
	char line[160], key[128], old[16], want[16], cur[16];

	if (state_forward_get(AF_INET6, name, line, sizeof(line)) == 0 &&
	    sscanf(line, "%127s %15s %15s", key, old, want) == 3 &&
	    !strncmp(key, "net/ipv6/conf/", 14) && !strstr(key, "..") &&
	    sysctl_read(key, cur, sizeof(cur)) == 0 && !strcmp(cur, want))
		sysctl_write(key, old);
	state_forward_forget(AF_INET6, name);
}

/* Read once a process: a kernel does not gain or lose the sysctl while it
 * runs, and up asks several times. */
bool forward6_per_interface(void)
{
	static int known = -1;
	char cur[16];

	if (known < 0)
		/* Tests take the older kernels' path on this one. */
		known = !getenv(GW_NO_FORCE_FORWARDING_ENV) &&
			sysctl_read(FORCE_FORWARDING_ALL, cur, sizeof(cur)) == 0;
	return known;
}

static bool is_gateway_link(const char *ifname)
{
	return !strncmp(ifname, GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX));
}

/* Older kernels: accept_ra 1 -> 2 where RAs are accepted, then the switch. */
static int global_on(struct fwd6_change *ch, struct nsg_err *e)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int r = 0;

	if (!ifs)
		return nsg_fail(e, -errno, NULL, "listing interfaces");
	for (i = ifs; i->if_index && r == 0; i++) {
		char key[64], cur[16];

		if (is_gateway_link(i->if_name) || !strcmp(i->if_name, "lo"))
			continue;
		snprintf(key, sizeof(key), "net/ipv6/conf/%.15s/accept_ra", i->if_name);
		if (sysctl_read(key, cur, sizeof(cur)) == 0 && !strcmp(cur, "1"))
			r = change(i->if_name, key, "2", ch, e);
	}
	if_freenameindex(ifs);
	return r < 0 ? r : change(ALL_NAME, IPV6_FORWARDING_ALL, "1", ch, e);
}

int forward6_on(struct session *s, const char *uplink, struct fwd6_change *ch, struct nsg_err *e)
{
	char ifs[LINK_DEFAULT_IFACES_MAX][IF_NAMESIZE], all[16], saved[160];
	bool per_if;
	int n, r = 0;

	memset(ch, 0, sizeof(*ch));
	r = sysctl_read(IPV6_FORWARDING_ALL, all, sizeof(all));
	if (r < 0)
		return nsg_fail(e, r, r == -ENOENT ? "the kernel has no IPv6" : NULL,
				"sysctl " IPV6_FORWARDING_ALL);
	/* Someone forwards everything already (not nsgate: its own switch
	 * stays on until the last gateway). */
	if (!strcmp(all, "1") && state_forward_get(AF_INET6, ALL_NAME, saved, sizeof(saved)) < 0)
		return 0;
	per_if = forward6_per_interface();
	if (!per_if)
		r = global_on(ch, e);
	if (r < 0 || !per_if)
		goto out;
	if (uplink[0]) {
		snprintf(ifs[0], sizeof(ifs[0]), "%.15s", uplink);
		n = 1;
	} else {
		/* No IPv6 default route: no uplink; host and hairpin paths need none. */
		n = link_default_ifnames_of(s->host, AF_INET6, ifs, ARRAY_SIZE(ifs));
		if (n < 0)
			return nsg_fail(e, n, NULL, "reading the host's IPv6 default routes");
	}
	for (int i = 0; i < n && r == 0; i++) {
		char key[64];

		if (is_gateway_link(ifs[i]))
			continue;
		snprintf(key, sizeof(key), "net/ipv6/conf/%.15s/force_forwarding", ifs[i]);
		r = change(ifs[i], key, "1", ch, e);
	}
out:
	if (r < 0)
		forward6_undo(s, ch);
	return r;
}

/* The interfaces with a saved value (the uplinks; "all" is none), for
 * fwd_guard6. Returns the count; *ret malloc'ed. */
static int guarded(char (**ret)[GW_NAME_MAX + 1])
{
	int n = state_forward_names(AF_INET6, ret), k = 0;

	for (int i = 0; i < n; i++)
		if (strcmp((*ret)[i], ALL_NAME))
			memcpy((*ret)[k++], (*ret)[i], sizeof((*ret)[0]));
	return n < 0 ? n : k;
}

int forward6_guard_queue(struct nftx *nft)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	int n = guarded(&names);

	if (n < 0)
		return n;
	return ruleset_queue_fwd_guard(nft, AF_INET6, (const char (*)[GW_NAME_MAX + 1])names, n,
				       false);
}

/* fwd_guard6 holds exactly the interfaces with a saved value. */
static void guard_prune(struct nftx *nft)
{
	_cleanup_free_ char (*keep)[GW_NAME_MAX + 1] = NULL;
	int n = guarded(&keep);
	size_t found = 0;

	if (n < 0)
		return;
	nftx_batch_begin(nft);
	if (ruleset_queue_fwd_guard_prune(nft, AF_INET6, (const char (*)[GW_NAME_MAX + 1])keep, n,
					  &found) == 0 && found)
		nftx_batch_commit(nft, NULL);
}

void forward6_undo(struct session *s, struct fwd6_change *ch)
{
	bool any = ch->n > 0;

	/* In reverse: the global switch goes off before accept_ra goes back. */
	while (ch->n > 0)
		restore(ch->turned[--ch->n]);
	if (any)
		guard_prune(s->nft);
}

void forward6_settle(struct session *s, bool last)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	int n;

	if (!last)
		return;
	n = state_forward_names(AF_INET6, &names);
	/* The global switch first, as in forward6_undo. */
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], ALL_NAME))
			restore(names[i]);
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], ALL_NAME))
			restore(names[i]);
	if (n > 0)
		guard_prune(s->nft);
}
