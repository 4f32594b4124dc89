/* SPDX-License-Identifier: MIT */
/*
 * Which gateways exist: from the state files and from the links nsgate
 * labelled (the ifalias "nsgate:NAME"), so list, down and gc find a gateway
 * from the kernel even when its state file is gone.
 */
#include <sys/stat.h>

#include "core.h"

#define OWN_NETNS_MARK " own-netns"

void inventory_alias(const struct gw_state *st, char *buf, size_t len)
{
	snprintf(buf, len, GW_ALIAS_PREFIX "%s%s", st->spec.name,
		 st->netns_created ? OWN_NETNS_MARK : "");
}

bool inventory_alias_owner(const char *alias, char name[GW_NAME_MAX + 1], bool *own_netns)
{
	size_t plen = strlen(GW_ALIAS_PREFIX), n;

	if (strncmp(alias, GW_ALIAS_PREFIX, plen))
		return false;
	alias += plen;
	n = strcspn(alias, " ");
	if (n == 0 || n > GW_NAME_MAX)
		return false;
	memcpy(name, alias, n);
	name[n] = '\0';
	if (own_netns)
		*own_netns = !strcmp(alias + n, OWN_NETNS_MARK);
	return spec_name_known(name);
}

bool inventory_link_is(const struct link_info *li, const char *name, bool *own_netns)
{
	char owner[GW_NAME_MAX + 1];

	return inventory_alias_owner(li->alias, owner, own_netns) && !strcmp(owner, name);
}

int inventory_link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct link_info *)a)->name, ((const struct link_info *)b)->name);
}

int inventory_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The links labelled GW_ALIAS_PREFIX: every link's alias read from a dump,
 * or (INVENTORY_QUICK) the links named as names[0..n) are taken as theirs
 * (a link of theirs carries no own-netns mark then: they have a state file,
 * which says) and only the others' aliases are read. */
static int labelled_links(struct nl_sock *host, char (*names)[GW_NAME_MAX + 1], int n,
			  unsigned flags, struct link_info **links)
{
	int family = !(flags & INVENTORY_WITH_ADDRS) ? LINK_ADDRS_NONE
		   : !(flags & INVENTORY_ADDRS_V4) ? AF_UNSPEC
		   : flags & INVENTORY_QUICK ? LINK_ADDRS_V4_BRIEF : AF_INET;
	_cleanup_free_ struct link_info *known = NULL;

	if (!(flags & INVENTORY_QUICK))
		return link_list_by_alias(host, GW_ALIAS_PREFIX, family, links);
	known = calloc(n ? n : 1, sizeof(*known));
	if (!known)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		spec_host_ifname(names[i], known[i].name);
		snprintf(known[i].alias, sizeof(known[i].alias), GW_ALIAS_PREFIX "%s", names[i]);
	}
	qsort(known, n, sizeof(*known), inventory_link_cmp);
	return link_list_known(host, known, n, GW_ALIAS_PREFIX, GW_DYING_IFNAME_PREFIX, family,
			       links);
}

/*
 * Drop the links whose owner has no state file (is not in names[0..n_state),
 * sorted) and whose namespace nsgate made and has no reference left: down
 * --all leaves such a link
 * as it is, for the kernel to destroy with the namespace (teardown.c,
 * many_mark), and it is no gateway's meanwhile. Its peer's id no longer
 * resolves (link_netnsid_alive), or no longer is reported. Returns the
 * count kept.
 */
static int drop_released(struct nl_sock *host, char (*names)[GW_NAME_MAX + 1], int n_state,
			 struct link_info *links, int nl)
{
	int k = 0;

	for (int i = 0; i < nl; i++) {
		char owner[GW_NAME_MAX + 1];
		bool own = false;

		if (inventory_alias_owner(links[i].alias, owner, &own) && own &&
		    !(n_state && bsearch(owner, names, n_state, sizeof(*names), inventory_name_cmp)) &&
		    (links[i].link_netnsid < 0 || !link_netnsid_alive(host, links[i].link_netnsid)))
			continue;
		links[k++] = links[i];
	}
	return k;
}

int inventory_list(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1],
		   struct link_info **links_ret, size_t *n_links_ret, unsigned flags)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct link_info *links = NULL;
	size_t cap;
	int n, nl, k = 0;

	n = state_names(&names);
	if (n < 0)
		return n;
	cap = n;
	nl = labelled_links(host, names, n, flags, &links);
	if (nl > 0)
		nl = drop_released(host, names, n, links, nl);
	if (nl < 0 || GROW(names, cap, (size_t)n + (nl > 0 ? nl : 0)) < 0) {
		free(names);
		return nl < 0 ? nl : -ENOMEM;
	}
	for (int i = 0; i < nl; i++)
		if (inventory_alias_owner(links[i].alias, names[n], NULL))
			n++;
	if (n > 0) {
		qsort(names, n, sizeof(*names), inventory_name_cmp);
		for (int i = 0; i < n; i++)
			if (k == 0 || strcmp(names[k - 1], names[i]))
				memmove(names[k++], names[i], sizeof(*names));
	}
	if (links_ret) {
		if (nl > 0)
			qsort(links, nl, sizeof(*links), inventory_link_cmp);
		*links_ret = TAKE_PTR(links);
		*n_links_ret = nl > 0 ? (size_t)nl : 0;
	}
	*ret = names;
	return k;
}

/* One that left only kernel objects (no state file) is gc's, not a reason
 * to keep the shared things; nor is a LAN gateway, which uses none of them. */
bool inventory_others_exist(const char *name)
{
	return state_other_nat_exists(name);
}

bool inventory_netns_alive(const struct gw_state *st)
{
	struct stat sb;

	if (stat(st->spec.netns_path, &sb) < 0)
		return false;
	/* A PID can be reused by a process in another namespace. */
	return !st->netns_ino || (uint64_t)sb.st_ino == st->netns_ino;
}

int inventory_load_running(const char *name, struct gw_state *st, struct nsg_err *e)
{
	int r = state_load(name, st);

	if (r == -ENOENT)
		return nsg_fail_kind(e, NSG_KIND_NOT_FOUND, -ENOENT, "no such gateway",
				     "gateway \"%s\"", name);
	if (r < 0)
		return nsg_fail(e, r, "its state file is damaged (down it and up again)",
				"gateway \"%s\"", name);
	if (st->creating)
		return nsg_fail_kind(e, NSG_KIND_NOT_FOUND, -ENOENT,
				     "its up never finished (nsgate gc removes it)", "gateway \"%s\"",
				     name);
	return 0;
}
