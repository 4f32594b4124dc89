/* SPDX-License-Identifier: MIT */
/*
 * Other firewalls: what nsgate does about a chain of someone else's that
 * would drop its gateways' traffic (docs/design.md, "Other firewalls").
 * A drop in any base chain is final in nftables, so nsgate's own accept
 * cannot help: the chain has to let the gateways through. nsgate opens
 * only what it can open through the means that firewall offers other tools
 * (iptables rules labelled FW_COMMENT, Docker's DOCKER-USER, a firewalld
 * zone at runtime), only for the gateway links (nsg-+), only while a
 * gateway is up; everything else it names, with the fix.
 */
#include "core.h"

/* What nsgate binds in firewalld: every gateway link at once. */
#define FIREWALLD_IFACE FW_IPT_IFNAME

/* firewalld runs and the gateway links are bound to a zone that lets them
 * forward (FIREWALLD_ZONE), whoever bound them. */
static int firewalld_look(struct fw_survey *sv, struct nsg_err *e)
{
	struct firewalld *fw;
	int r = firewalld_open(&fw, e);

	/* Its table without a bus: firewalld died and left it (CleanupOnExit=no). */
	if (r == -ENOENT || r == -ECONNREFUSED)
		return 0;
	if (r < 0)
		return r;
	r = firewalld_running(fw, e);
	if (r > 0) {
		sv->firewalld = true;
		r = firewalld_zone_of(fw, FIREWALLD_IFACE, sv->firewalld_zone,
				      sizeof(sv->firewalld_zone), e);
	}
	firewalld_close(fw);
	/* It stopped while asked (a restart): as if it did not run; its
	 * table rejects until it is back, and gc or watch bind then. */
	if (r == -EHOSTUNREACH) {
		sv->firewalld = false;
		sv->firewalld_zone[0] = '\0';
		return 0;
	}
	return r < 0 ? r : 0;
}

int firewall_survey(struct session *s, struct fw_survey *sv, struct nsg_err *e)
{
	int r;

	memset(sv, 0, sizeof(*sv));
	r = hostfw_survey(s->nft, &sv->nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading the other nftables tables");
	r = xtables_survey(&sv->legacy, e);
	if (r < 0)
		return r;
	/* firewalld's own rules show the binding: no D-Bus call needed. */
	if (sv->nft.firewalld_trusted) {
		snprintf(sv->firewalld_zone, sizeof(sv->firewalld_zone), "%s", FIREWALLD_ZONE);
	} else if (sv->nft.firewalld_table) {
		r = firewalld_look(sv, e);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < sv->nft.blocks.n; i++) {
		struct fw_block b = sv->nft.blocks.b[i];

		/* Gateways are IPv4 only: an ip6 table drops none of their traffic. */
		if (!strcmp(b.family, "ip6"))
			continue;
		b.docker_user = b.iptables && b.hook == FW_HOOK_FORWARD && sv->nft.docker_user &&
				!strcmp(b.family, "ip");
		if (b.source == FW_SRC_FIREWALLD)
			b.opened = sv->nft.firewalld_trusted ||
				   (sv->firewalld && !strcmp(sv->firewalld_zone, FIREWALLD_ZONE));
		fw_blocks_add(&sv->blocks, &b);
	}
	for (size_t i = 0; i < sv->legacy.blocks.n; i++) {
		struct fw_block b = sv->legacy.blocks.b[i];

		b.docker_user = b.hook == FW_HOOK_FORWARD && sv->legacy.docker_user;
		fw_blocks_add(&sv->blocks, &b);
	}
	return 0;
}

size_t firewall_blocking(const struct fw_survey *sv)
{
	size_t n = 0;

	for (size_t i = 0; i < sv->blocks.n; i++)
		n += !sv->blocks.b[i].opened;
	return n;
}

void firewall_describe(const struct fw_block *b, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s (%s)", b->family, b->table, b->chain,
		 b->policy_drop ? "policy drop" : "a rule drops everything");
}

/* The iptables command of b's kind: iptables-nft's tables are iptables'
 * default on Debian and Ubuntu; a legacy table needs iptables-legacy. */
static const char *ipt_command(const struct fw_block *b)
{
	if (b->source == FW_SRC_IPTABLES_LEGACY)
		return "iptables-legacy";
	return !strcmp(b->family, "ip6") ? "ip6tables" : "iptables";
}

void firewall_fix(const struct fw_block *b, char *buf, size_t len)
{
	const char *c = ipt_command(b);

	if (b->source == FW_SRC_FIREWALLD)
		snprintf(buf, len, "firewall-cmd --zone=%s --add-interface=%s", FIREWALLD_ZONE,
			 FIREWALLD_IFACE);
	else if (b->docker_user)
		/* -I puts each on top: the RETURNs end above the accepts, so that
		 * Docker's own rules decide what enters its networks. */
		snprintf(buf, len,
			 "%s -I %s -o %s -j ACCEPT; %s -I %s -i %s -j ACCEPT; "
			 "%s -I %s -i %s -o br-+ -j RETURN; %s -I %s -i %s -o docker0 -j RETURN",
			 c, FW_DOCKER_USER, FW_IPT_IFNAME, c, FW_DOCKER_USER, FW_IPT_IFNAME, c,
			 FW_DOCKER_USER, FW_IPT_IFNAME, c, FW_DOCKER_USER, FW_IPT_IFNAME);
	else if (b->iptables && b->hook == FW_HOOK_INPUT)
		snprintf(buf, len,
			 "%s -I INPUT -i %s -p udp --dport 53 -j ACCEPT; "
			 "%s -I INPUT -i %s -p tcp --dport 53 -j ACCEPT", c, FW_IPT_IFNAME, c,
			 FW_IPT_IFNAME);
	else if (b->iptables)
		snprintf(buf, len, "%s -I %s -i %s -j ACCEPT; %s -I %s -o %s -j ACCEPT", c,
			 b->chain, FW_IPT_IFNAME, c, b->chain, FW_IPT_IFNAME);
	else if (b->hook == FW_HOOK_INPUT)
		snprintf(buf, len, "nft insert rule %s %s %s iifname \"%s*\" meta l4proto { tcp, udp } "
			 "th dport 53 accept", b->family, b->table, b->chain, GW_IFNAME_PREFIX);
	else
		snprintf(buf, len, "nft insert rule %s %s %s iifname \"%s*\" accept; "
			 "nft insert rule %s %s %s oifname \"%s*\" accept", b->family, b->table,
			 b->chain, GW_IFNAME_PREFIX, b->family, b->table, b->chain, GW_IFNAME_PREFIX);
}

/* The hooks on which blocks of source src that nsgate can open still drop. */
static void wanted(const struct fw_survey *sv, enum fw_source src, bool *fwd, bool *in)
{
	*fwd = *in = false;
	for (size_t i = 0; i < sv->blocks.n; i++) {
		const struct fw_block *b = &sv->blocks.b[i];

		if (b->source != src || b->opened || !b->iptables)
			continue;
		if (b->hook == FW_HOOK_INPUT)
			*in = true;
		else
			*fwd = true;
	}
}

static void mark_opened(struct fw_survey *sv, enum fw_source src)
{
	for (size_t i = 0; i < sv->blocks.n; i++)
		if (sv->blocks.b[i].source == src &&
		    (sv->blocks.b[i].iptables || src == FW_SRC_FIREWALLD))
			sv->blocks.b[i].opened = true;
}

/* iptables-nft's filter table: rules of ours, in one transaction. */
static int open_iptables_nft(struct session *s, struct fw_survey *sv, struct nsg_err *e)
{
	bool fwd, in;
	int r;

	wanted(sv, FW_SRC_NFTABLES, &fwd, &in);
	if (!fwd && !in)
		return 0;
	nftx_batch_begin(s->nft);
	r = hostfw_queue_iptables_open(s->nft, &sv->nft, fwd, in);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch for table ip filter");
	if (r > 0) {
		r = nftx_batch_commit(s->nft, e);
		if (r < 0)
			return nsg_fail(e, r, NULL, "opening table ip filter for the gateways");
	}
	mark_opened(sv, FW_SRC_NFTABLES);
	return 0;
}

/* firewalld: the gateway links into its zone that forwards, at runtime,
 * the intent written first so that a crash leaves it for gc. A binding to
 * another zone is an admin's: left alone (and reported). */
static int open_firewalld(struct fw_survey *sv, struct nsg_err *e)
{
	struct firewalld *fw;
	int r;

	if (!sv->firewalld || sv->firewalld_zone[0])
		return 0;
	r = state_firewalld_save(FIREWALLD_ZONE, FIREWALLD_IFACE);
	if (r < 0)
		return nsg_fail(e, r, NULL, STATE_DIR "/firewalld");
	r = firewalld_open(&fw, e);
	if (r == 0) {
		r = firewalld_zone_add(fw, FIREWALLD_ZONE, FIREWALLD_IFACE, e);
		firewalld_close(fw);
	}
	if (r == -EHOSTUNREACH) {
		/* Gone meanwhile (a restart): nothing was bound. */
		state_firewalld_forget();
		return 0;
	}
	if (r < 0) {
		state_firewalld_forget();
		return nsg_fail(e, r, NULL, "firewalld: binding %s to zone %s", FIREWALLD_IFACE,
				FIREWALLD_ZONE);
	}
	snprintf(sv->firewalld_zone, sizeof(sv->firewalld_zone), "%s", FIREWALLD_ZONE);
	mark_opened(sv, FW_SRC_FIREWALLD);
	return 0;
}

int firewall_open(struct session *s, struct fw_survey *sv, struct nsg_err *e)
{
	bool fwd, in;
	int r = open_iptables_nft(s, sv, e);

	if (r < 0)
		return r;
	wanted(sv, FW_SRC_IPTABLES_LEGACY, &fwd, &in);
	if (fwd || in) {
		r = xtables_open(fwd, in, e);
		if (r < 0)
			return r;
		mark_opened(sv, FW_SRC_IPTABLES_LEGACY);
	}
	return open_firewalld(sv, e);
}

/* Unbind what the intent file names, if it is still bound there. */
static void close_firewalld(void)
{
	char zone[64], iface[IF_NAMESIZE], now[64];
	struct firewalld *fw;

	if (state_firewalld_get(zone, sizeof(zone), iface, sizeof(iface)) < 0)
		return;
	if (firewalld_open(&fw, NULL) == 0) {
		if (firewalld_running(fw, NULL) > 0 &&
		    firewalld_zone_of(fw, iface, now, sizeof(now), NULL) == 0 && !strcmp(now, zone))
			firewalld_zone_remove(fw, zone, iface, NULL);
		firewalld_close(fw);
	}
	state_firewalld_forget();
}

void firewall_close(struct session *s)
{
	struct hostfw_survey hs;
	struct xtables_survey xs;

	if (hostfw_survey(s->nft, &hs) == 0 && hs.n_ours) {
		nftx_batch_begin(s->nft);
		if (hostfw_queue_iptables_close(s->nft, &hs) > 0)
			nftx_batch_commit(s->nft, NULL);
	}
	if (xtables_survey(&xs, NULL) == 0 && xs.n_ours)
		xtables_close(NULL);
	close_firewalld();
}

/* Whether some gateway with a state file asks for --firewall auto. */
static bool some_gateway_auto(void)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	bool any = false;
	int n = state_names(&names);

	for (int i = 0; i < n && !any; i++) {
		struct gw_state st;

		/* A LAN gateway's traffic never meets the host's firewalls. */
		any = state_load(names[i], &st) == 0 && !st.creating &&
		      st.spec.firewall == GW_FIREWALL_AUTO && !spec_is_lan(&st.spec);
	}
	free(names);
	return any;
}

int firewall_sync(struct session *s, struct fw_survey *sv, struct fw_blocks *newly,
		  struct nsg_err *e)
{
	bool was_open[FW_BLOCKS_MAX];
	int r;

	if (newly)
		memset(newly, 0, sizeof(*newly));
	r = firewall_survey(s, sv, e);
	if (r < 0)
		return r;
	if (!inventory_others_exist("")) {
		firewall_close(s);
		return 0;
	}
	if (!firewall_blocking(sv) || !some_gateway_auto())
		return 0;
	for (size_t i = 0; i < sv->blocks.n; i++)
		was_open[i] = sv->blocks.b[i].opened;
	r = firewall_open(s, sv, e);
	for (size_t i = 0; newly && i < sv->blocks.n; i++)
		if (sv->blocks.b[i].opened && !was_open[i])
			fw_blocks_add(newly, &sv->blocks.b[i]);
	return r;
}

int gateway_firewall_sync(struct fw_blocks *opened, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	struct fw_survey sv;
	int r;

	memset(opened, 0, sizeof(*opened));
	r = session_open(&s, SESSION_LOCK | SESSION_NFT, e);
	return r < 0 ? r : firewall_sync(&s, &sv, opened, e);
}

int gateway_firewall(struct fw_blocks *ret, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	struct fw_survey sv;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = session_open(&s, SESSION_NFT, e);
	if (r == 0)
		r = firewall_survey(&s, &sv, e);
	if (r == 0)
		*ret = sv.blocks;
	return r;
}
