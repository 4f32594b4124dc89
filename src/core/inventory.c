/* SPDX-License-Identifier: MIT */
#include "core.h"

/* The ifalias that marks a link as a gateway's host side, so list, down and
 * gc find gateways from the kernel even when a state file is gone. */
void gw_alias(const struct gw_state *st, char *buf, size_t len)
{
	snprintf(buf, len, GW_ALIAS_PREFIX "%s%s", st->spec.name,
		 st->netns_created ? " own-netns" : "");
}

/* The gateway name an alias carries, or false if it is not ours. */
bool alias_name(const char *alias, char name[GW_NAME_MAX + 1], bool *own_netns)
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
		*own_netns = !strcmp(alias + n, " own-netns");
	return spec_name_check(name, NULL) == 0;
}

struct ruleset_gw ruleset_gw_of(const struct gw_spec *s)
{
	return (struct ruleset_gw){ .name = s->name, .host_ifname = s->host_ifname, .uplink = s->uplink };
}

int link_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct link_info *)a)->name, ((const struct link_info *)b)->name);
}

int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Every gateway known from state files or from links nsgate labelled,
 * sorted and unique; the labelled links themselves in *links_ret when
 * wanted (sorted by name).
 */
int known_names_links(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1],
			     struct link_info **links_ret, size_t *n_links_ret)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct link_info *links = NULL;
	int n, nl, k = 0;

	n = state_names(&names);
	if (n < 0)
		return n;
	nl = link_list_by_alias(host, GW_ALIAS_PREFIX, &links);
	if (nl < 0) {
		free(names);
		return nl;
	}
	if (nl > 0) {
		void *p = realloc(names, (n + nl) * sizeof(*names));

		if (!p) {
			free(names);
			return -ENOMEM;
		}
		names = p;
	}
	for (int i = 0; i < nl; i++)
		if (alias_name(links[i].alias, names[n], NULL))
			n++;
	if (n > 0) {
		qsort(names, n, sizeof(*names), name_cmp);
		for (int i = 0; i < n; i++)
			if (k == 0 || strcmp(names[k - 1], names[i]))
				memmove(names[k++], names[i], sizeof(*names));
	}
	if (links_ret) {
		if (nl > 0)
			qsort(links, nl, sizeof(*links), link_name_cmp);
		*links_ret = TAKE_PTR(links);
		*n_links_ret = nl > 0 ? (size_t)nl : 0;
	}
	*ret = names;
	return k;
}

int known_names(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1])
{
	return known_names_links(host, ret, NULL, NULL);
}

/* Shared things (the table, ip_forward) stay while another gateway has state;
 * one that left only kernel objects is gc's. */
bool other_gateways_exist(const char *name)
{
	return state_other_exists(name);
}

bool netns_alive(const struct gw_state *st)
{
	struct stat sb;

	if (stat(st->spec.netns_path, &sb) < 0)
		return false;
	/* A PID can be reused by a process in another namespace. */
	return !st->netns_ino || (uint64_t)sb.st_ino == st->netns_ino;
}

/* The gateways whose labelled host link exists, from one link dump. */
int live_links_read(struct nl_sock *host, struct live_links *ret)
{
	_cleanup_free_ struct link_info *links = NULL;
	int n = link_list_by_alias(host, GW_ALIAS_PREFIX, &links);

	ret->n = 0;
	ret->names = NULL;
	if (n < 0)
		return n;
	ret->names = calloc(n ? n : 1, sizeof(*ret->names));
	if (!ret->names)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (alias_name(links[i].alias, ret->names[ret->n], NULL))
			ret->n++;
	qsort(ret->names, ret->n, sizeof(*ret->names), name_cmp);
	return 0;
}
