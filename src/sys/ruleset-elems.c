/* SPDX-License-Identifier: MIT */
/*
 * The elements of the "inet nsgate" table: what one gateway puts into the
 * sets (its veth, and how it is masqueraded) and what its published ports
 * put into the maps, each commented with the gateway's name; and reading
 * them back, to delete a gateway's elements, show its state or list its
 * ports. The sets and maps themselves are built in ruleset.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/network.h"
#include "nsgate/nft.h"
#include "nsgate/ruleset.h"
#include "ruleset-internal.h"

static void ifname_key(const char *ifname, char key[IFNAMSIZ])
{
	memset(key, 0, IFNAMSIZ);
	strncpy(key, ifname, IFNAMSIZ - 1);
}

/* "ifname . ipv4_addr" or "ifname . ipv6_addr": a 16-byte name and the
 * address in network order (4 or 16 bytes); returns the key's length. */
static uint32_t ifname_addr_key(const char *ifname, const struct ip_addr *a,
				uint8_t key[IFNAMSIZ + 16])
{
	ifname_key(ifname, (char *)key);
	return IFNAMSIZ + ip_addr_to_bytes(a, key + IFNAMSIZ);
}

/* The elements of one gateway are deleted by what nsgate believes, not by
 * what it read back (the old masquerade element of an uplink change): each
 * is added first, in the same transaction, so that the delete always finds
 * it. An add without NLM_F_EXCL of what exists is a no-op; of what is gone
 * (a kill after the commit and before the state file, a hand edit) it comes
 * and goes at once. The end state is "absent" either way, and no ENOENT
 * fails the batch. Port elements are not done so: their callers read them
 * back first (and a map's add would clash on other data). */
static int queue_elems_in(struct nftx *n, uint16_t family, const char *set,
			  const struct nftx_elem *e, size_t k, bool del)
{
	int r = nftx_elems_queue(n, family, RULESET_TABLE, set, e, k, false);

	return r < 0 || !del ? r : nftx_elems_queue(n, family, RULESET_TABLE, set, e, k, true);
}

static int queue_elems(struct nftx *n, const char *set, const struct nftx_elem *e, size_t k,
		       bool del)
{
	return queue_elems_in(n, FAMILY, set, e, k, del);
}

int ruleset_queue_masq(struct nftx *n, const struct ruleset_gw *gw, bool del)
{
	char via[2 * IFNAMSIZ];
	struct nftx_elem e = { .key = via, .key_len = IFNAMSIZ, .comment = gw->name };

	ifname_key(gw->host_ifname, via);
	if (!gw->uplink || !gw->uplink[0])
		return queue_elems(n, SET_MASQ_ANY, &e, 1, del);
	ifname_key(gw->uplink, via + IFNAMSIZ);
	e.key_len = sizeof(via);
	return queue_elems(n, SET_MASQ_VIA, &e, 1, del);
}

/* One element per DNS server of family (AF_INET: no_host_dns4, AF_INET6:
 * no_host_dns6). */
static int queue_no_host_dns(struct nftx *n, const struct ruleset_gw *gw, int family, bool del)
{
	uint8_t keys[GW_DNS_MAX][IFNAMSIZ + 16];
	struct nftx_elem dns[GW_DNS_MAX];
	unsigned k = 0;

	for (unsigned i = 0; i < gw->n_dns && i < GW_DNS_MAX; i++) {
		if (gw->dns[i].family != family)
			continue;
		dns[k] = (struct nftx_elem){ .key = keys[k], .comment = gw->name,
					     .key_len = ifname_addr_key(gw->host_ifname, &gw->dns[i],
									keys[k]) };
		k++;
	}
	if (!k)
		return 0;
	return queue_elems(n, family == AF_INET6 ? SET_NO_HOST_DNS6 : SET_NO_HOST_DNS4, dns, k, del);
}

int ruleset_queue_no_host(struct nftx *n, const struct ruleset_gw *gw, bool del)
{
	char veth[IFNAMSIZ];
	struct nftx_elem e = { .key = veth, .key_len = IFNAMSIZ, .comment = gw->name };
	int r;

	ifname_key(gw->host_ifname, veth);
	r = queue_elems(n, SET_NO_HOST, &e, 1, del);
	if (r == 0)
		r = queue_no_host_dns(n, gw, AF_INET, del);
	/* An IPv4-only namespace has no IPv6 route: its IPv6 servers would
	 * never be asked. */
	if (r == 0 && ip_addr_is_set(&gw->ns_addr6))
		r = queue_no_host_dns(n, gw, AF_INET6, del);
	return r;
}

/* A dual-stack gateway's IPv6 sources: its global address and its
 * link-local one, GW_LL_NS (neighbour discovery, router solicitations). */
static int queue_ns_addrs6(struct nftx *n, const struct ruleset_gw *gw, bool del)
{
	uint8_t keys[2][IFNAMSIZ + 16];
	struct nftx_elem e[2];
	/* A member's come in on its bridge, its link-local is its own. */
	const char *ifname = gw->bridge ? gw->bridge : gw->host_ifname;
	struct ip_addr ll = gw->ns_ll6;
	int r = ip_addr_is_set(&ll) ? 0 : ip_addr_parse(GW_LL_NS, AF_INET6, &ll);

	if (r < 0)
		return r;
	e[0] = (struct nftx_elem){ .key = keys[0], .comment = gw->name,
				   .key_len = ifname_addr_key(ifname, &gw->ns_addr6, keys[0]) };
	e[1] = (struct nftx_elem){ .key = keys[1], .comment = gw->name,
				   .key_len = ifname_addr_key(ifname, &ll, keys[1]) };
	return queue_elems(n, SET_NS_ADDRS6, e, 2, del);
}

int ruleset_queue_gateway(struct nftx *n, const struct ruleset_gw *gw, bool del)
{
	char veth[IFNAMSIZ];
	uint8_t src[IFNAMSIZ + 16];
	struct nftx_elem e = { .key = veth, .key_len = IFNAMSIZ, .comment = gw->name };
	int r;

	/* Without its address the guard drops all it sends: refuse rather
	 * than queue a gateway that cannot work. */
	if (!ip_addr_is_v4(&gw->ns_addr) ||
	    (ip_addr_is_set(&gw->ns_addr6) && gw->ns_addr6.family != AF_INET6))
		return -EAFNOSUPPORT;
	ifname_key(gw->host_ifname, veth);
	r = queue_elems(n, SET_IFACES, &e, 1, del);
	/* A member's packets come in on its bridge, masqueraded as the network's. */
	if (r == 0 && !gw->bridge)
		r = ruleset_queue_masq(n, gw, del);
	if (r < 0)
		return r;
	e.key = src;
	e.key_len = ifname_addr_key(gw->bridge ? gw->bridge : gw->host_ifname, &gw->ns_addr, src);
	r = queue_elems(n, SET_NS_ADDRS4, &e, 1, del);
	if (r == 0 && ip_addr_is_set(&gw->ns_addr6))
		r = queue_ns_addrs6(n, gw, del);
	if (r == 0 && gw->no_host)
		r = ruleset_queue_no_host(n, gw, del);
	return r;
}

int ruleset_queue_network(struct nftx *n, const char *name, const char *bridge, bool isolated,
			  bool del)
{
	char comment[sizeof(NET_ELEM_PREFIX) + GW_NAME_MAX], key[2 * IFNAMSIZ];
	struct nftx_elem e = { .key = key, .key_len = IFNAMSIZ, .comment = comment };
	int r;

	snprintf(comment, sizeof(comment), NET_ELEM_PREFIX "%s", name);
	ifname_key(bridge, key);
	ifname_key(bridge, key + IFNAMSIZ);
	r = queue_elems(n, SET_MASQ_ANY, &e, 1, del);
	e.key_len = sizeof(key);
	return r < 0 || isolated ? r : queue_elems(n, SET_NET_INTRA, &e, 1, del);
}


/* port_src4's and port_src6's key: port . MAC (two 4-byte slots) . address;
 * its length, 0 for an address of neither family. */
static size_t port_src_key(const char *port, const uint8_t mac[6], const struct ip_addr *addr,
			   uint8_t key[IFNAMSIZ + 8 + 16], const char **set)
{
	if (!ip_addr_is_set(addr))
		return 0;
	memset(key, 0, IFNAMSIZ + 8 + 16);
	ifname_key(port, (char *)key);
	memcpy(key + IFNAMSIZ, mac, 6);
	*set = ip_addr_is_v4(addr) ? SET_PORT_SRC4 : SET_PORT_SRC6;
	return IFNAMSIZ + 8 + ip_addr_to_bytes(addr, key + IFNAMSIZ + 8);
}

/* nftx_elem_get's callback when only presence counts. */
static int elem_seen(const struct nftx_elem *e, void *userdata)
{
	(void)e;
	(void)userdata;
	return 0;
}

int ruleset_network_present(struct nftx *n, const char *bridge, bool isolated)
{
	char key[2 * IFNAMSIZ];
	int r;

	ifname_key(bridge, key);
	ifname_key(bridge, key + IFNAMSIZ);
	r = nftx_elem_get(n, FAMILY, RULESET_TABLE, SET_MASQ_ANY, key, IFNAMSIZ, elem_seen, NULL);
	if (r <= 0 || isolated)
		return r == -ENOENT ? 0 : r;
	r = nftx_elem_get(n, FAMILY, RULESET_TABLE, SET_NET_INTRA, key, sizeof(key), elem_seen, NULL);
	return r == -ENOENT ? 0 : r;
}

int ruleset_port_src_present(struct nftx *n, const char *port, const uint8_t mac[6],
			     const struct ip_addr *addr)
{
	uint8_t key[IFNAMSIZ + 8 + 16];
	const char *set;
	size_t len = port_src_key(port, mac, addr, key, &set);
	int r;

	if (!len)
		return -EAFNOSUPPORT;
	r = nftx_elem_get(n, BRIDGE_FAMILY, RULESET_TABLE, set, key, len, elem_seen, NULL);
	return r == -ENOENT ? 0 : r;
}

int ruleset_queue_port_src(struct nftx *n, const char *member, const char *port,
			   const uint8_t mac[6], const struct ip_addr *addr, bool del)
{
	uint8_t key[IFNAMSIZ + 8 + 16];
	const char *set;
	struct nftx_elem e = { .key = key, .comment = member };

	e.key_len = port_src_key(port, mac, addr, key, &set);
	if (!e.key_len)
		return -EAFNOSUPPORT;
	return queue_elems_in(n, BRIDGE_FAMILY, set, &e, 1, del);
}

/* The uplinks nsgate switched forwarding on for belong to no gateway: one
 * element each, with this comment, while any gateway needs it. */
#define FWD_GUARD_COMMENT "nsgate"

int ruleset_queue_fwd_guard(struct nftx *n, int family, const char (*ifnames)[GW_NAME_MAX + 1],
			    size_t n_if, bool del)
{
	_cleanup_free_ struct nftx_elem *elems = calloc(n_if ? n_if : 1, sizeof(*elems));
	_cleanup_free_ char (*keys)[IFNAMSIZ] = calloc(n_if ? n_if : 1, IFNAMSIZ);

	if (!elems || !keys)
		return -ENOMEM;
	for (size_t i = 0; i < n_if; i++) {
		ifname_key(ifnames[i], keys[i]);
		elems[i] = (struct nftx_elem){ .key = keys[i], .key_len = IFNAMSIZ,
					       .comment = del ? NULL : FWD_GUARD_COMMENT };
	}
	return n_if ? nftx_elems_queue(n, FAMILY, RULESET_TABLE, fwd_guard_set(family), elems, n_if,
				       del)
		    : 0;
}

/* Elements are collected per set, then queued for deletion in one go. */
struct owned {
	const char (*keep)[GW_NAME_MAX + 1];   /* fwd_guard: all but these, sorted */
	size_t n_keep;
	bool prune;
	const char *name;
	const char (*names)[GW_NAME_MAX + 1];  /* or any of these, sorted */
	size_t n_names;
	struct nftx_elem *elems;
	uint8_t (*keys)[64];      /* copies: the dump's buffers do not outlive the callback */
	size_t n, cap_elems, cap_keys;
	struct ruleset_gw_state *state;
	const char *set;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool owned_by(const struct owned *o, const struct nftx_elem *el)
{
	const char *comment = el->comment;

	if (o->prune) {
		char ifname[IFNAMSIZ] = "";

		if (el->key_len == IFNAMSIZ)
			memcpy(ifname, el->key, IFNAMSIZ - 1);
		return !o->n_keep || !bsearch(ifname, o->keep, o->n_keep, sizeof(*o->keep), name_cmp);
	}
	if (!comment)
		return false;
	if (o->names)
		return bsearch(comment, o->names, o->n_names, sizeof(*o->names), name_cmp) != NULL;
	return !strcmp(comment, o->name);
}

/* The four maps of published ports: what their keys start with (the host
 * address a port is bound to: none, IPv4, IPv6) and the family of the
 * namespace address their data lead to. Key: [address .] proto . port,
 * data: address . port, each field in 4-byte slots (an IPv6 address four). */
struct port_map {
	const char *name;
	sa_family_t host_family, to_family;
	uint32_t key_len, data_len;
};

enum { PM_ANY4, PM_BOUND4, PM_ANY6, PM_BOUND6, PM_N };

static const struct port_map port_maps[PM_N] = {
	[PM_ANY4] = { MAP_PORTS4, AF_UNSPEC, AF_INET, 8, 8 },
	[PM_BOUND4] = { MAP_PORTS4H, AF_INET, AF_INET, 12, 8 },
	[PM_ANY6] = { MAP_PORTS6, AF_UNSPEC, AF_INET6, 8, 20 },
	[PM_BOUND6] = { MAP_PORTS6H, AF_INET6, AF_INET6, 24, 20 },
};

#define PORT_KEY_MAX 24
#define PORT_DATA_MAX 20

static const struct port_map *port_map_of(const char *set)
{
	for (size_t i = 0; i < PM_N; i++)
		if (!strcmp(port_maps[i].name, set))
			return &port_maps[i];
	return NULL;
}

/* One port element's share of a gateway's port fingerprint: FNV-1a over
 * key and data, then mixed (splitmix64's finaliser), so that a sum over
 * elements does not cancel out. */
static uint64_t port_elem_hash(const struct nftx_elem *e)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < e->key_len; i++)
		h = (h ^ ((const uint8_t *)e->key)[i]) * 0x100000001b3ull;
	for (uint32_t i = 0; i < e->data_len; i++)
		h = (h ^ ((const uint8_t *)e->data)[i]) * 0x100000001b3ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static void note_state(struct ruleset_gw_state *st, const char *set, const struct nftx_elem *el)
{
	const struct port_map *m;

	st->n_elems++;
	if (!strcmp(set, SET_IFACES))
		st->in_ifaces = ++st->n_ifaces > 0;
	else if (!strcmp(set, SET_MASQ_ANY))
		st->masq_any = true;
	else if (!strcmp(set, SET_MASQ_VIA) && el->key_len == 2 * IFNAMSIZ)
		snprintf(st->masq_via, sizeof(st->masq_via), "%.15s", (const char *)el->key + IFNAMSIZ);
	else if (!strcmp(set, SET_NS_ADDRS4))
		st->in_ns_addrs4 = ++st->n_ns_addrs4 > 0;
	else if (!strcmp(set, SET_NS_ADDRS6))
		/* Both of them: its ::2 and its fe80::2 (neighbour discovery). */
		st->in_ns_addrs6 = ++st->n_ns_addrs6 >= 2;
	else if (!strcmp(set, SET_NO_HOST))
		st->no_host = true;
	else if (!strcmp(set, SET_NO_HOST_DNS4) || !strcmp(set, SET_NO_HOST_DNS6))
		st->n_no_host_dns++;
	else if ((m = port_map_of(set))) {
		st->n_ports++;
		if (el->data_len == m->data_len)
			st->ports_fingerprint += port_elem_hash(el);
	}
}

static bool is_no_host_set(const char *set)
{
	return !strcmp(set, SET_NO_HOST) || !strcmp(set, SET_NO_HOST_DNS4) ||
	       !strcmp(set, SET_NO_HOST_DNS6);
}

static int collect_owned(const struct nftx_elem *el, void *userdata)
{
	struct owned *o = userdata;

	if (!owned_by(o, el))
		return 0;
	if (o->state) {
		note_state(o->state, o->set, el);
		return 0;
	}
	if (el->key_len > sizeof(*o->keys))
		return -EINVAL;
	if (GROW(o->elems, o->cap_elems, o->n + 1) < 0 || GROW(o->keys, o->cap_keys, o->n + 1) < 0)
		return -ENOMEM;
	memcpy(o->keys[o->n], el->key, el->key_len);
	o->elems[o->n] = (struct nftx_elem){ .key_len = el->key_len };
	o->n++;
	return 0;
}

/* Queue the deletion of o's elements of one set. */
static int queue_owned_in(struct nftx *n, struct owned *o, size_t *n_found)
{
	int r = nftx_elems_dump(n, FAMILY, RULESET_TABLE, o->set, collect_owned, o);

	if (r == -ENOENT)
		r = 0;  /* no table (or set): nothing of ours there */
	if (r == 0 && o->n) {
		for (size_t j = 0; j < o->n; j++)
			o->elems[j].key = o->keys[j];
		r = nftx_elems_queue(n, FAMILY, RULESET_TABLE, o->set, o->elems, o->n, true);
		if (n_found)
			*n_found += o->n;
	}
	free(o->elems);
	free(o->keys);
	return r;
}

static int walk_owned(struct nftx *n, const char *name, const char (*names)[GW_NAME_MAX + 1],
		      size_t n_names, struct ruleset_gw_state *state, bool no_host_only,
		      size_t *n_found)
{
	int r = 0;

	for (size_t i = 0; i < ruleset_n_sets && r == 0; i++) {
		struct owned o = { .name = name, .names = names, .n_names = n_names, .state = state,
				   .set = ruleset_sets[i].name };

		/* No gateway owns those: they go with the last one. */
		if (is_fwd_guard_set(o.set))
			continue;
		if (no_host_only && !is_no_host_set(o.set))
			continue;
		r = queue_owned_in(n, &o, n_found);
	}
	return r;
}

int ruleset_queue_fwd_guard_prune(struct nftx *n, int family, const char (*keep)[GW_NAME_MAX + 1],
				  size_t n_keep, size_t *n_found)
{
	struct owned o = { .prune = true, .keep = keep, .n_keep = n_keep,
			   .set = fwd_guard_set(family) };

	*n_found = 0;
	return queue_owned_in(n, &o, n_found);
}

int ruleset_queue_owned_delete(struct nftx *n, const char *name, size_t *n_found)
{
	*n_found = 0;
	return walk_owned(n, name, NULL, 0, NULL, false, n_found);
}

int ruleset_queue_no_host_delete(struct nftx *n, const char *name, size_t *n_found)
{
	*n_found = 0;
	return walk_owned(n, name, NULL, 0, NULL, true, n_found);
}

int ruleset_queue_owned_delete_many(struct nftx *n, const char (*names)[GW_NAME_MAX + 1],
				    size_t n_names, size_t *n_found)
{
	*n_found = 0;
	return walk_owned(n, NULL, names, n_names, NULL, false, n_found);
}

int ruleset_gateway_state(struct nftx *n, const char *name, struct ruleset_gw_state *ret)
{
	memset(ret, 0, sizeof(*ret));
	return walk_owned(n, name, NULL, 0, ret, false, NULL);
}

struct many_states {
	const char (*names)[GW_NAME_MAX + 1];
	size_t n_names;
	struct ruleset_gw_state *states;
	const char *set;
};

static int collect_states(const struct nftx_elem *el, void *userdata)
{
	struct many_states *m = userdata;
	const char (*hit)[GW_NAME_MAX + 1];

	if (!el->comment)
		return 0;
	hit = bsearch(el->comment, m->names, m->n_names, sizeof(*m->names), name_cmp);
	if (hit)
		note_state(&m->states[hit - m->names], m->set, el);
	return 0;
}

int ruleset_gateway_states(struct nftx *n, const char (*names)[GW_NAME_MAX + 1], size_t n_names,
			   struct ruleset_gw_state *states)
{
	int r = 0;

	memset(states, 0, n_names * sizeof(*states));
	for (size_t i = 0; i < ruleset_n_sets && r == 0; i++) {
		struct many_states m = { .names = names, .n_names = n_names, .states = states,
					 .set = ruleset_sets[i].name };

		if (is_fwd_guard_set(m.set))
			continue;
		r = nftx_elems_dump(n, FAMILY, RULESET_TABLE, ruleset_sets[i].name, collect_states, &m);
		if (r == -ENOENT)
			r = 0;
	}
	return r;
}

/* ------------------------------------------------------------ published ports */

/* Map keys and data use one 4-byte register slot per concatenated field,
 * network byte order, zero padded. */
static void put_proto_port(uint8_t *slot, uint8_t proto, uint16_t port)
{
	uint16_t be = htons(port);

	memset(slot, 0, 8);
	slot[0] = proto;
	memcpy(slot + 4, &be, 2);
}

static void put_port(uint8_t *slot, uint16_t port)
{
	uint16_t be = htons(port);

	memset(slot, 0, 4);
	memcpy(slot, &be, 2);
}

/* Targets the maps can hold: IPv4, and IPv6 or none. */
static bool targets_ok(const struct gw_target *to)
{
	return ip_addr_is_v4(&to->v4) && (!ip_addr_is_set(&to->v6) || to->v6.family == AF_INET6);
}

/* The maps port p goes in for targets to, a bit per map: an unbound port in
 * ports4, and in ports6 too on a dual-stack gateway; a bound one in its
 * address's family's map. 0 when none can hold it (bound to an IPv6
 * address of a gateway without IPv6, or to an unknown family). */
static unsigned port_maps_for(const struct portmap *p, const struct gw_target *to)
{
	bool v6 = ip_addr_is_set(&to->v6);

	switch (p->host_addr.family) {
	case AF_UNSPEC:
		return 1u << PM_ANY4 | (v6 ? 1u << PM_ANY6 : 0);
	case AF_INET:
		return 1u << PM_BOUND4;
	case AF_INET6:
		return v6 ? 1u << PM_BOUND6 : 0;
	default:
		return 0;
	}
}

/* Every port of pm[] has a map: 0, or -EAFNOSUPPORT rather than a wrong key. */
static int check_ports(const struct gw_target *to, const struct portmap *pm, size_t n_pm)
{
	if (!targets_ok(to))
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < n_pm; i++)
		if (!port_maps_for(&pm[i], to))
			return -EAFNOSUPPORT;
	return 0;
}

/* The element of port j of p in map m, mapping to the target of m's family:
 * key and data written into key and data, as the maps hold them. */
static void port_elem_fill(const struct portmap *p, uint32_t j, const struct port_map *m,
			   const struct gw_target *to, uint8_t key[PORT_KEY_MAX],
			   uint8_t data[PORT_DATA_MAX], struct nftx_elem *e)
{
	unsigned a = m->host_family ? ip_addr_to_bytes(&p->host_addr, key) : 0;
	unsigned d = ip_addr_to_bytes(m->to_family == AF_INET6 ? &to->v6 : &to->v4, data);

	put_proto_port(key + a, p->proto, p->host_port + j);
	put_port(data + d, p->port + j);
	*e = (struct nftx_elem){ .key = key, .key_len = m->key_len, .data = data,
				 .data_len = m->data_len };
}

/* Call fn for every element pm[] makes for targets to: port j of p, in
 * map m (PM_*), in the order of pm[] and, per port range, of the maps. */
static void each_port_elem(const struct gw_target *to, const struct portmap *pm, size_t n_pm,
			   void (*fn)(const struct portmap *p, uint32_t j, unsigned m, void *ctx),
			   void *ctx)
{
	for (size_t i = 0; i < n_pm; i++) {
		unsigned maps = port_maps_for(&pm[i], to);

		for (unsigned m = 0; m < PM_N; m++)
			for (uint32_t j = 0; (maps & 1u << m) && j < pm[i].count; j++)
				fn(&pm[i], j, m, ctx);
	}
}

size_t ruleset_ports_elems(const struct gw_target *to, const struct portmap *pm, size_t n_pm)
{
	size_t total = 0;

	for (size_t i = 0; i < n_pm; i++)
		total += (size_t)__builtin_popcount(port_maps_for(&pm[i], to)) * pm[i].count;
	return total;
}

struct port_sum {
	const struct gw_target *to;
	uint64_t sum;
};

static void sum_elem(const struct portmap *p, uint32_t j, unsigned m, void *ctx)
{
	struct port_sum *s = ctx;
	uint8_t key[PORT_KEY_MAX], data[PORT_DATA_MAX];
	struct nftx_elem e;

	port_elem_fill(p, j, &port_maps[m], s->to, key, data, &e);
	s->sum += port_elem_hash(&e);
}

uint64_t ruleset_ports_fingerprint(const struct gw_target *to, const struct portmap *pm,
				   size_t n_pm)
{
	struct port_sum s = { .to = to };

	if (check_ports(to, pm, n_pm) < 0)
		return 0;
	each_port_elem(to, pm, n_pm, sum_elem, &s);
	return s.sum;
}

/* What ruleset_queue_publish builds: the elements per map, and their key
 * and data bytes (a slot per element). */
struct port_batch {
	const struct gw_target *to;
	const char *name;
	struct nftx_elem *elems[PM_N];
	size_t n[PM_N];
	uint8_t (*slots)[PORT_KEY_MAX + PORT_DATA_MAX];
	size_t n_slots;
};

static void count_elem(const struct portmap *p, uint32_t j, unsigned m, void *ctx)
{
	struct port_batch *b = ctx;

	(void)p;
	(void)j;
	b->n[m]++;
}

static void fill_elem(const struct portmap *p, uint32_t j, unsigned m, void *ctx)
{
	struct port_batch *b = ctx;
	struct nftx_elem *e = &b->elems[m][b->n[m]++];
	uint8_t *slot = b->slots[b->n_slots++];

	port_elem_fill(p, j, &port_maps[m], b->to, slot, slot + PORT_KEY_MAX, e);
	e->comment = b->name;
}

int ruleset_queue_publish(struct nftx *n, const char *name, const struct gw_target *to,
			  const struct portmap *pm, size_t n_pm, bool del)
{
	struct port_batch b = { .to = to, .name = name };
	size_t total = ruleset_ports_elems(to, pm, n_pm);
	int r = check_ports(to, pm, n_pm);

	if (r < 0 || !total)
		return r;
	/* Sized per map first: a dual-stack gateway's 100,000 ports make
	 * 200,000 elements. */
	each_port_elem(to, pm, n_pm, count_elem, &b);
	r = -ENOMEM;
	for (unsigned m = 0; m < PM_N; m++) {
		if (b.n[m] && !(b.elems[m] = calloc(b.n[m], sizeof(*b.elems[m]))))
			goto out;
		b.n[m] = 0;
	}
	b.slots = calloc(total, sizeof(*b.slots));
	if (!b.slots)
		goto out;
	each_port_elem(to, pm, n_pm, fill_elem, &b);
	r = 0;
	for (unsigned m = 0; r == 0 && m < PM_N; m++)
		r = nftx_elems_queue(n, FAMILY, RULESET_TABLE, port_maps[m].name, b.elems[m], b.n[m],
				     del);
out:
	for (unsigned m = 0; m < PM_N; m++)
		free(b.elems[m]);
	free(b.slots);
	return r;
}

struct pub_list {
	const char *name;
	const struct port_map *map;   /* the one being read */
	struct portmap *v;
	size_t n, cap;
};

static int collect_published(const struct nftx_elem *el, void *userdata)
{
	struct pub_list *l = userdata;
	const struct port_map *m = l->map;
	const uint8_t *k = el->key, *d = el->data;
	struct portmap p = { .count = 1 };
	uint16_t port;
	int r;

	if (l->name && (!el->comment || strcmp(el->comment, l->name)))
		return 0;
	if (!d || el->data_len != m->data_len || el->key_len != m->key_len)
		return 0;  /* not an element nsgate wrote */
	if (m->host_family) {
		r = ip_addr_from_bytes(m->host_family, k, &p.host_addr);
		if (r < 0)
			return r;
		k += ip_family_len(m->host_family);
	}
	p.proto = k[0];
	memcpy(&port, k + 4, 2);
	p.host_port = ntohs(port);
	r = ip_addr_from_bytes(m->to_family, d, &p.to_addr);
	if (r < 0)
		return r;
	memcpy(&port, d + ip_family_len(m->to_family), 2);
	p.port = ntohs(port);
	snprintf(p.owner, sizeof(p.owner), "%s", el->comment ? el->comment : "");
	if (GROW(l->v, l->cap, l->n + 1) < 0)
		return -ENOMEM;
	l->v[l->n++] = p;
	return 0;
}

/* Whether b is a's twin, an unbound port's element in the other family's
 * map: the same owner, protocol and ports. */
static bool twins(const struct portmap *a, const struct portmap *b)
{
	return !ip_addr_is_set(&a->host_addr) && !ip_addr_is_set(&b->host_addr) &&
	       a->proto == b->proto && a->host_port == b->host_port && a->port == b->port &&
	       a->to_addr.family != b->to_addr.family && !strcmp(a->owner, b->owner);
}

/* One mapping per unbound port of a dual-stack gateway, as it was
 * published: its ports6 element folds into its ports4 twin. Sorted by
 * portmap_sort, the two are neighbours (each map has one element a key,
 * and an unbound port sorts before the bound ones of its protocol and
 * port); of two that are not twins, the IPv4 one goes first. */
static size_t fold_twins(struct portmap *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct portmap *a = &v[i], *b = i + 1 < n ? &v[i + 1] : NULL;

		if (b && !ip_addr_is_set(&a->host_addr) && !ip_addr_is_set(&b->host_addr) &&
		    a->proto == b->proto && a->host_port == b->host_port) {
			if (a->to_addr.family == AF_INET6) {
				struct portmap t = *a;

				*a = *b;
				*b = t;
			}
			if (twins(a, b)) {
				/* Its flows are forgotten for both families. */
				a->to_addr6 = b->to_addr;
				v[k++] = *a;
			} else {
				v[k++] = *a;
				v[k++] = *b;
			}
			i++;
			continue;
		}
		v[k++] = *a;
	}
	return k;
}

/* Hand the collected ports over sorted, or drop them on an error (a missing
 * table or map is none: nothing published). */
static int pub_list_finish(struct pub_list *l, int r, struct portmap **ret, size_t *n_ret)
{
	if (r < 0 && r != -ENOENT) {
		free(l->v);
		return r;
	}
	portmap_sort(l->v, l->n);
	*ret = l->v;
	*n_ret = fold_twins(l->v, l->n);
	return 0;
}

/* Every element of map m (of gateway l->name, or all) into l. */
static int pub_dump(struct nftx *n, struct pub_list *l, size_t m)
{
	int r;

	l->map = &port_maps[m];
	r = nftx_elems_dump(n, FAMILY, RULESET_TABLE, port_maps[m].name, collect_published, l);
	return r == -ENOENT ? 0 : r;
}

int ruleset_published(struct nftx *n, const char *name, struct portmap **ret, size_t *n_ret)
{
	struct pub_list l = { .name = name };
	int r = 0;

	*ret = NULL;
	*n_ret = 0;
	for (size_t m = 0; r == 0 && m < PM_N; m++)
		r = pub_dump(n, &l, m);
	return pub_list_finish(&l, r, ret, n_ret);
}

/* The unbound element of req's ports in map m, looked up by key. */
static int pub_get_near(struct nftx *n, struct pub_list *l, size_t m, const struct portmap *req,
			size_t n_req)
{
	int r = 0;

	l->map = &port_maps[m];
	for (size_t i = 0; i < n_req; i++)
		for (uint32_t j = 0; j < req[i].count; j++) {
			uint8_t key[8];

			put_proto_port(key, req[i].proto, req[i].host_port + j);
			r = nftx_elem_get(n, FAMILY, RULESET_TABLE, port_maps[m].name, key,
					  sizeof(key), collect_published, l);
			if (r < 0)
				return r;
		}
	return 0;
}

int ruleset_published_near(struct nftx *n, const struct portmap *req, size_t n_req,
			   struct portmap **ret, size_t *n_ret)
{
	struct pub_list l = { 0 };
	int r;

	/* Past a few dozen lookups one dump is cheaper. */
	if (portmap_count_ports(req, n_req) > 64)
		return ruleset_published(n, NULL, ret, n_ret);
	*ret = NULL;
	*n_ret = 0;
	r = pub_dump(n, &l, PM_BOUND4);
	if (r == 0)
		r = pub_dump(n, &l, PM_BOUND6);
	if (r == 0)
		r = pub_get_near(n, &l, PM_ANY4, req, n_req);
	if (r == 0)
		r = pub_get_near(n, &l, PM_ANY6, req, n_req);
	return pub_list_finish(&l, r, ret, n_ret);
}
