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

#include "nsgate/nft.h"
#include "nsgate/ruleset.h"
#include "ruleset-internal.h"

static void ifname_key(const char *ifname, char key[IFNAMSIZ])
{
	memset(key, 0, IFNAMSIZ);
	strncpy(key, ifname, IFNAMSIZ - 1);
}

/* "ifname . ipv4_addr": a 16-byte name and the address in network order. */
static void ifname_addr_key(const char *ifname, const struct ip_addr *a, uint8_t key[IFNAMSIZ + 4])
{
	uint32_t be = htonl(a->v4);

	ifname_key(ifname, (char *)key);
	memcpy(key + IFNAMSIZ, &be, 4);
}

/* The elements of one gateway are deleted by what nsgate believes, not by
 * what it read back (the old masquerade element of an uplink change): each
 * is added first, in the same transaction, so that the delete always finds
 * it. An add without NLM_F_EXCL of what exists is a no-op; of what is gone
 * (a kill after the commit and before the state file, a hand edit) it comes
 * and goes at once. The end state is "absent" either way, and no ENOENT
 * fails the batch. Port elements are not done so: their callers read them
 * back first (and a map's add would clash on other data). */
static int queue_elems(struct nftx *n, const char *set, const struct nftx_elem *e, size_t k,
		       bool del)
{
	int r = nftx_elems_queue(n, FAMILY, RULESET_TABLE, set, e, k, false);

	return r < 0 || !del ? r : nftx_elems_queue(n, FAMILY, RULESET_TABLE, set, e, k, true);
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

int ruleset_queue_no_host(struct nftx *n, const struct ruleset_gw *gw, bool del)
{
	char veth[IFNAMSIZ];
	uint8_t keys[GW_DNS_MAX][IFNAMSIZ + 4];
	struct nftx_elem e = { .key = veth, .key_len = IFNAMSIZ, .comment = gw->name };
	struct nftx_elem dns[GW_DNS_MAX];
	unsigned k = 0;
	int r;

	ifname_key(gw->host_ifname, veth);
	r = queue_elems(n, SET_NO_HOST, &e, 1, del);
	for (unsigned i = 0; r == 0 && i < gw->n_dns && i < GW_DNS_MAX; i++) {
		if (!ip_addr_is_v4(&gw->dns[i]))
			continue;  /* the namespace has no IPv6 route: never used */
		ifname_addr_key(gw->host_ifname, &gw->dns[i], keys[k]);
		dns[k] = (struct nftx_elem){ .key = keys[k], .key_len = IFNAMSIZ + 4,
					     .comment = gw->name };
		k++;
	}
	if (r == 0 && k)
		r = queue_elems(n, SET_NO_HOST_DNS4, dns, k, del);
	return r;
}

int ruleset_queue_gateway(struct nftx *n, const struct ruleset_gw *gw, bool del)
{
	char veth[IFNAMSIZ];
	uint8_t src[IFNAMSIZ + 4];
	struct nftx_elem e = { .key = veth, .key_len = IFNAMSIZ, .comment = gw->name };
	int r;

	/* Without its address the guard drops all it sends: refuse rather
	 * than queue a gateway that cannot work. */
	if (!ip_addr_is_v4(&gw->ns_addr))
		return -EAFNOSUPPORT;
	ifname_key(gw->host_ifname, veth);
	r = queue_elems(n, SET_IFACES, &e, 1, del);
	if (r == 0)
		r = ruleset_queue_masq(n, gw, del);
	if (r < 0)
		return r;
	ifname_addr_key(gw->host_ifname, &gw->ns_addr, src);
	e.key = src;
	e.key_len = sizeof(src);
	r = queue_elems(n, SET_NS_ADDRS4, &e, 1, del);
	if (r == 0 && gw->no_host)
		r = ruleset_queue_no_host(n, gw, del);
	return r;
}

/* The uplinks nsgate switched forwarding on for belong to no gateway: one
 * element each, with this comment, while any gateway needs it. */
#define FWD_GUARD_COMMENT "nsgate"

int ruleset_queue_fwd_guard(struct nftx *n, const char (*ifnames)[GW_NAME_MAX + 1], size_t n_if,
			    bool del)
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
	return n_if ? nftx_elems_queue(n, FAMILY, RULESET_TABLE, SET_FWD_GUARD, elems, n_if, del) : 0;
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
	st->n_elems++;
	if (!strcmp(set, SET_IFACES))
		st->in_ifaces = true;
	else if (!strcmp(set, SET_MASQ_ANY))
		st->masq_any = true;
	else if (!strcmp(set, SET_MASQ_VIA) && el->key_len == 2 * IFNAMSIZ)
		snprintf(st->masq_via, sizeof(st->masq_via), "%.15s", (const char *)el->key + IFNAMSIZ);
	else if (!strcmp(set, SET_NS_ADDRS4))
		st->in_ns_addrs4 = true;
	else if (!strcmp(set, SET_NO_HOST))
		st->no_host = true;
	else if (!strcmp(set, SET_NO_HOST_DNS4))
		st->n_no_host_dns++;
	else if (!strcmp(set, MAP_PORTS4) || !strcmp(set, MAP_PORTS4H)) {
		st->n_ports++;
		if (el->data_len == 8)
			st->ports_fingerprint += port_elem_hash(el);
	}
}

static bool is_no_host_set(const char *set)
{
	return !strcmp(set, SET_NO_HOST) || !strcmp(set, SET_NO_HOST_DNS4);
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
		if (!strcmp(o.set, SET_FWD_GUARD))
			continue;
		if (no_host_only && !is_no_host_set(o.set))
			continue;
		r = queue_owned_in(n, &o, n_found);
	}
	return r;
}

int ruleset_queue_fwd_guard_prune(struct nftx *n, const char (*keep)[GW_NAME_MAX + 1],
				  size_t n_keep, size_t *n_found)
{
	struct owned o = { .prune = true, .keep = keep, .n_keep = n_keep, .set = SET_FWD_GUARD };

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

		if (!strcmp(m.set, SET_FWD_GUARD))
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

static void put_addr_port(uint8_t *slot, uint32_t addr, uint16_t port)
{
	uint32_t a = htonl(addr);
	uint16_t be = htons(port);

	memset(slot, 0, 8);
	memcpy(slot, &a, 4);
	memcpy(slot + 4, &be, 2);
}

/* The maps hold IPv4 addresses only: say so rather than write a wrong key. */
static int check_v4(struct ip_addr to, const struct portmap *pm, size_t n_pm)
{
	if (!ip_addr_is_v4(&to))
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < n_pm; i++)
		if (ip_addr_is_set(&pm[i].host_addr) && !ip_addr_is_v4(&pm[i].host_addr))
			return -EAFNOSUPPORT;
	return 0;
}

/* The element of port j of p, mapping to to: key and data written into
 * key (12 bytes) and data (8 bytes), as the maps hold them. */
static void port_elem_fill(const struct portmap *p, uint32_t j, struct ip_addr to, uint8_t *key,
			   uint8_t *data, struct nftx_elem *e)
{
	if (ip_addr_is_set(&p->host_addr)) {
		uint32_t a = htonl(p->host_addr.v4);
		memcpy(key, &a, 4);
		put_proto_port(key + 4, p->proto, p->host_port + j);
		e->key_len = 12;
	} else {
		put_proto_port(key, p->proto, p->host_port + j);
		e->key_len = 8;
	}
	put_addr_port(data, to.v4, p->port + j);
	e->key = key;
	e->data = data;
	e->data_len = 8;
}

size_t ruleset_ports_elems(const struct gw_target *to, const struct portmap *pm, size_t n_pm)
{
	(void)to;
	return portmap_count_ports(pm, n_pm);
}

uint64_t ruleset_ports_fingerprint(const struct gw_target *target, const struct portmap *pm,
				   size_t n_pm)
{
	struct ip_addr to = target->v4;
	uint64_t sum = 0;

	if (check_v4(to, pm, n_pm) < 0)
		return 0;
	for (size_t i = 0; i < n_pm; i++)
		for (uint32_t j = 0; j < pm[i].count; j++) {
			uint8_t key[12], data[8];
			struct nftx_elem e;

			port_elem_fill(&pm[i], j, to, key, data, &e);
			sum += port_elem_hash(&e);
		}
	return sum;
}

int ruleset_queue_publish(struct nftx *n, const char *name, const struct gw_target *target,
			  const struct portmap *pm, size_t n_pm, bool del)
{
	struct ip_addr to = target->v4;
	size_t total = portmap_count_ports(pm, n_pm), n_any = 0, n_bound = 0;
	struct nftx_elem *any = NULL, *bound = NULL;
	uint8_t *buf = NULL;
	int r = check_v4(to, pm, n_pm);

	if (r < 0 || !total)
		return r;
	r = -ENOMEM;
	/* Per port: a 12-byte key slot and an 8-byte data slot. */
	any = calloc(total, sizeof(*any));
	bound = calloc(total, sizeof(*bound));
	buf = malloc(total * 20);
	if (!any || !bound || !buf)
		goto out;
	for (size_t i = 0, k = 0; i < n_pm; i++) {
		const struct portmap *p = &pm[i];
		bool is_bound = ip_addr_is_set(&p->host_addr);

		for (uint32_t j = 0; j < p->count; j++, k++) {
			uint8_t *key = buf + k * 20;
			struct nftx_elem *e = is_bound ? &bound[n_bound++] : &any[n_any++];

			port_elem_fill(p, j, to, key, key + 12, e);
			e->comment = name;
		}
	}
	r = nftx_elems_queue(n, FAMILY, RULESET_TABLE, MAP_PORTS4, any, n_any, del);
	if (r == 0)
		r = nftx_elems_queue(n, FAMILY, RULESET_TABLE, MAP_PORTS4H, bound, n_bound, del);
out:
	free(any);
	free(bound);
	free(buf);
	return r;
}

struct pub_list {
	const char *name;
	bool bound;
	struct portmap *v;
	size_t n, cap;
};

static int collect_published(const struct nftx_elem *el, void *userdata)
{
	struct pub_list *l = userdata;
	const uint8_t *k = el->key, *d = el->data;
	struct portmap p = { .count = 1 };
	uint16_t port;
	int r;

	if (l->name && (!el->comment || strcmp(el->comment, l->name)))
		return 0;
	if (!d || el->data_len != 8 || el->key_len != (l->bound ? 12u : 8u))
		return 0;  /* not an element nsgate wrote */
	if (l->bound) {
		r = ip_addr_from_bytes(AF_INET, k, &p.host_addr);
		if (r < 0)
			return r;
		k += 4;
	}
	p.proto = k[0];
	memcpy(&port, k + 4, 2);
	p.host_port = ntohs(port);
	r = ip_addr_from_bytes(AF_INET, d, &p.to_addr);
	if (r < 0)
		return r;
	memcpy(&port, d + 4, 2);
	p.port = ntohs(port);
	snprintf(p.owner, sizeof(p.owner), "%s", el->comment ? el->comment : "");
	if (GROW(l->v, l->cap, l->n + 1) < 0)
		return -ENOMEM;
	l->v[l->n++] = p;
	return 0;
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
	*n_ret = l->n;
	return 0;
}

int ruleset_published(struct nftx *n, const char *name, struct portmap **ret, size_t *n_ret)
{
	struct pub_list l = { .name = name };
	int r;

	*ret = NULL;
	*n_ret = 0;
	r = nftx_elems_dump(n, FAMILY, RULESET_TABLE, MAP_PORTS4, collect_published, &l);
	if (r == 0 || r == -ENOENT) {
		l.bound = true;
		r = nftx_elems_dump(n, FAMILY, RULESET_TABLE, MAP_PORTS4H, collect_published, &l);
	}
	return pub_list_finish(&l, r, ret, n_ret);
}

int ruleset_published_near(struct nftx *n, const struct portmap *req, size_t n_req,
			   struct portmap **ret, size_t *n_ret)
{
	struct pub_list l = { .bound = true };
	int r;

	/* Past a few dozen lookups one dump is cheaper. */
	if (portmap_count_ports(req, n_req) > 64)
		return ruleset_published(n, NULL, ret, n_ret);
	*ret = NULL;
	*n_ret = 0;
	r = nftx_elems_dump(n, FAMILY, RULESET_TABLE, MAP_PORTS4H, collect_published, &l);
	l.bound = false;
	for (size_t i = 0; (r == 0 || r == -ENOENT) && i < n_req; i++)
		for (uint32_t j = 0; j < req[i].count; j++) {
			uint8_t key[8];

			put_proto_port(key, req[i].proto, req[i].host_port + j);
			r = nftx_elem_get(n, FAMILY, RULESET_TABLE, MAP_PORTS4, key, sizeof(key),
					  collect_published, &l);
			if (r < 0)
				break;
			r = 0;
		}
	return pub_list_finish(&l, r, ret, n_ret);
}
