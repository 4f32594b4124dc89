/* SPDX-License-Identifier: MIT */
/* publish and unpublish: a running gateway's ports, one transaction each. */
#include "core.h"

/* A running gateway's namespace address: where its ports lead. */
static int running_addr(const char *name, struct gw_target *to, struct nsg_err *e)
{
	struct gw_state st;
	int r = inventory_load_running(name, &st, e);

	if (r < 0)
		return r;
	/* Its address is the LAN's own: there is nothing to map to it. */
	if (spec_is_lan(&st.spec))
		return nsg_fail(e, -EINVAL, "is a LAN gateway (no NAT: its ports are reached on "
				"its own address)", "gateway \"%s\"", name);
	*to = gw_target_of(&st.spec);
	return 0;
}

/* del[]'s elements deleted and add[]'s added, in one transaction, with the
 * ports file becoming next[]. The file says what is meant, so it is
 * written first: a kill before the commit leaves it ahead of the kernel,
 * and gc's element repair finishes the job (adds what was meant to come,
 * removes what was meant to go); a kill after it leaves the two agreeing.
 * A refused commit puts the old file back. */
static int commit_ports(struct nftx *nft, const char *name, const struct gw_target *to,
			const struct portmap *del, size_t n_del, const struct portmap *add,
			size_t n_add, const struct portmap *old, size_t n_old,
			const struct portmap *next, size_t n_next, struct nsg_err *e)
{
	int r = state_ports_save(name, next, n_next);

	if (r < 0)
		return nsg_fail(e, r, NULL, STATE_DIR "/%s.ports", name);
	nftx_batch_begin(nft);
	r = n_del ? ruleset_queue_publish(nft, name, to, del, n_del, true) : 0;
	if (r == 0 && n_add)
		r = ruleset_queue_publish(nft, name, to, add, n_add, false);
	if (r < 0) {
		state_ports_save(name, old, n_old);
		return nsg_fail(e, r, NULL, "nftables batch");
	}
	r = nftx_batch_commit(nft, e);
	/* Best effort: the commit's error is the one to report. */
	if (r < 0)
		state_ports_save(name, old, n_old);
	return r;
}

/* publish or unpublish of pubs[]: the ports file's old list with them
 * added (or taken out), merged into ranges. The maps are not read back:
 * with 10,000 ports that would cost more than the change. */
static int commit_ports_one(struct nftx *nft, const char *name, const struct gw_target *to,
			    const struct portmap *pubs, size_t n_pubs, bool del, struct nsg_err *e)
{
	_cleanup_free_ struct portmap *old = NULL, *next = NULL;
	size_t n_old = 0, n_next = 0;
	int r = state_ports_load(name, &old, &n_old);

	if (r < 0 && r != -EBADMSG)
		return nsg_fail(e, r, NULL, STATE_DIR "/%s.ports", name);
	r = portmap_combine(old, n_old, pubs, n_pubs, del, &next, &n_next);
	if (r < 0)
		return nsg_fail(e, r, NULL, STATE_DIR "/%s.ports", name);
	return del ? commit_ports(nft, name, to, pubs, n_pubs, NULL, 0, old, n_old, next, n_next, e)
		   : commit_ports(nft, name, to, NULL, 0, pubs, n_pubs, old, n_old, next, n_next, e);
}

/* What both commands start from: where the gateway's ports lead, and the
 * published ports near the requested keys (all of them past a few dozen),
 * so that a one-port command does not read every gateway's ports. */
static int ports_prologue(struct nftx *nft, const char *name, const struct portmap *pubs,
			  size_t n_pubs, struct gw_target *to, struct portmap **have, size_t *n_have,
			  struct nsg_err *e)
{
	int r = running_addr(name, to, e);

	if (r < 0)
		return r;
	r = ruleset_published_near(nft, pubs, n_pubs, have, n_have);
	return r < 0 ? nsg_fail(e, r, NULL, "reading published ports") : 0;
}

int ports_publish(struct session *s, const char *name, const struct portmap *pubs,
		  size_t n_pubs, bool force, struct nsg_err *e)
{
	struct nftx *nft = s->nft;
	_cleanup_free_ struct portmap *have = NULL;
	size_t n_have;
	struct gw_target to;
	int r;

	/* Other gateways' ports where these would go: a claim is a conflict. */
	r = ports_prologue(nft, name, pubs, n_pubs, &to, &have, &n_have, e);
	if (r < 0)
		return r;
	r = publish_check(name, &to, pubs, n_pubs, have, n_have, force, e);
	if (r < 0)
		return r;
	return commit_ports_one(nft, name, &to, pubs, n_pubs, false, e);
}

int ports_unpublish(struct session *s, const char *name, const struct portmap *pubs,
		    size_t n_pubs, struct nsg_err *e)
{
	struct nftx *nft = s->nft;
	_cleanup_free_ struct portmap *have = NULL;
	size_t n_have, n_own = 0;
	struct gw_target to;
	int r;

	r = ports_prologue(nft, name, pubs, n_pubs, &to, &have, &n_have, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_have; i++)
		if (!strcmp(have[i].owner, name))
			have[n_own++] = have[i];
	r = portmap_match(pubs, n_pubs, have, n_own, e);
	if (r < 0)
		return r;
	r = commit_ports_one(nft, name, &to, pubs, n_pubs, true, e);
	if (r == 0)
		r = publish_forget_flows(pubs, n_pubs, &to, e);
	return r < 0 ? r : 0;
}

int ports_replace(struct session *s, const char *name, const struct portmap *want,
		  size_t n_want, const struct portmap *del, size_t n_del, const struct portmap *add,
		  size_t n_add, struct nsg_err *e)
{
	_cleanup_free_ struct portmap *have = NULL, *old = NULL;
	size_t n_have = 0, n_old = 0;
	struct gw_target to;
	int r;

	r = n_add ? ports_prologue(s->nft, name, add, n_add, &to, &have, &n_have, e)
		  : running_addr(name, &to, e);
	if (r == 0 && n_add)
		r = publish_check(name, &to, add, n_add, have, n_have, false, e);
	if (r < 0)
		return r;
	r = state_ports_load(name, &old, &n_old);
	if (r < 0 && r != -EBADMSG)
		return nsg_fail(e, r, NULL, STATE_DIR "/%s.ports", name);
	r = commit_ports(s->nft, name, &to, del, n_del, add, n_add, old, n_old, want, n_want, e);
	if (r == 0 && n_del)
		r = publish_forget_flows(del, n_del, &to, e);
	return r < 0 ? r : 0;
}

int gateway_publish(const char *name, const struct portmap *pubs, size_t n_pubs, bool force,
		    struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r = session_open(&s, SESSION_LOCK | SESSION_NFT, e);

	return r < 0 ? r : ports_publish(&s, name, pubs, n_pubs, force, e);
}

int gateway_unpublish(const char *name, const struct portmap *pubs, size_t n_pubs,
		      struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r = session_open(&s, SESSION_LOCK | SESSION_NFT, e);

	return r < 0 ? r : ports_unpublish(&s, name, pubs, n_pubs, e);
}
