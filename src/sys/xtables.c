/* SPDX-License-Identifier: MIT */
/*
 * iptables-legacy's filter table (x_tables), read and changed through
 * libip4tc, the library iptables-legacy is built on. nsgate does not link
 * it: most hosts have no x_tables table at all, and a loaded library costs
 * every command its start-up. It is dlopen()ed the first time a command
 * finds the filter table in /proc/net/ip_tables_names; before that nothing
 * of x_tables is touched (asking the kernel for a table it lacks makes it
 * create one).
 *
 * The rules are laid out byte for byte as iptables-legacy writes them, so
 * that `iptables-legacy-save` reads them as
 *   -A DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT
 *   -A INPUT -i nsg-+ -p udp -m udp --dport 53 -m comment --comment nsgate -j ACCEPT
 * and `iptables-legacy -D` with the same words deletes them. In Docker's
 * layout two returns stand above the accepts in DOCKER-USER,
 *   -A DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN
 *   -A DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN
 * so that what goes to Docker's bridges meets Docker's own FORWARD rules
 * (published ports pass, containers' other addresses do not), as for
 * hostfw.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libiptc/libiptc.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_tcpudp.h>

#include "nsgate/fileio.h"
#include "nsgate/lock.h"
#include "nsgate/xtables.h"

#define XT_LIB "libip4tc.so.2"
#define XT_TABLE "filter"
#define XT_WHAT "iptables-legacy table " XT_TABLE
/* iptables' lock (XT_LOCK_NAME in iptables; XTABLES_LOCKFILE overrides it
 * for iptables as for nsgate), and how long nsgate waits for it: longer
 * than any iptables command holds it, short enough for `watch`. */
#define XT_LOCK_FILE "/run/xtables.lock"
#define XT_LOCK_TIMEOUT_S 5
/* Reading the table fails with EAGAIN when it changes meanwhile, a commit
 * when it changed since it was read (by someone not taking the lock): read
 * it again, this many times. */
#define XT_TRIES 3
#define DNS_PORT 53
/* Docker's bridges in iptables' spelling: the default network's, and
 * those `docker network create` makes (br-<id>). */
#define DOCKER_BRIDGE "docker0"
#define DOCKER_BRIDGES "br-+"

/* libip4tc's functions nsgate calls, each typed by its declaration in
 * libiptc.h. */
#define XT_FUNCS(X)                                                                              \
	X(init) X(free) X(is_chain) X(first_chain) X(next_chain) X(first_rule) X(next_rule)      \
	X(get_target) X(get_policy) X(insert_entry) X(delete_num_entry) X(commit) X(strerror)
#define XT_FIELD(f) __typeof__(iptc_##f) *f;
/* Filled once per process by xt_load and never changed after: the one
 * copy of the library's entry points (the library stays loaded). Only the
 * thread running a command's session calls this module. */
static struct {
	XT_FUNCS(XT_FIELD)
} iptc;

/* The shapes of rule nsgate adds, in the order they stand at the top of
 * their chain: the returns to Docker's bridges (DOCKER-USER only), -i and
 * -o in FORWARD (DOCKER-USER), DNS in INPUT. */
enum xt_kind {
	XK_RET_DOCKER0, XK_RET_BRIDGES, XK_IN, XK_OUT, XK_DNS_UDP, XK_DNS_TCP,
	XK_MAX, XK_NONE = XK_MAX
};

static bool kind_forward(enum xt_kind k) { return k <= XK_OUT; }
static bool kind_return(enum xt_kind k) { return k == XK_RET_DOCKER0 || k == XK_RET_BRIDGES; }

/* One rule: its entry, matches and target (ours take 488 bytes). */
struct xt_rule {
	union {
		struct ipt_entry e;
		unsigned char b[512];
	};
};

/* Where each shape goes: forward ones into fchain (DOCKER-USER or FORWARD). */
static const char *kind_chain(enum xt_kind k, const char *fchain)
{
	return kind_forward(k) ? fchain : "INPUT";
}

/* -------------------------------------------------------------- loading */

static int xt_load(struct nsg_err *e)
{
	const char *missing = NULL;
	void *lib;

	if (iptc.init)
		return 0;
	lib = dlopen(XT_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return nsg_fail(e, -ELIBACC,
				"its filter table is in use but " XT_LIB
				" is missing (package libip4tc2)",
				"iptables-legacy");
#define XT_SYM(f)                                          \
	if (!(iptc.f = dlsym(lib, "iptc_" #f)))            \
		missing = "iptc_" #f;
	XT_FUNCS(XT_SYM)
#undef XT_SYM
	if (missing) {
		memset(&iptc, 0, sizeof(iptc));
		dlclose(lib);
		nsg_fail(e, -ELIBACC, NULL, "iptables-legacy");
		nsg_why(e, XT_LIB " has no function %s", missing);
		return -ELIBACC;
	}
	return 0;
}

/* The filter table exists: one read of /proc/net/ip_tables_names (one
 * name a line; the file is missing when x_tables is not loaded at all). */
static int xt_present(bool *ret, struct nsg_err *e)
{
	char names[512];
	int n = file_read_small("/proc/net/ip_tables_names", names, sizeof(names));

	*ret = false;
	if (n == -ENOENT)
		return 0;
	if (n < 0 && n != -EFBIG)
		return nsg_fail(e, n, NULL, "/proc/net/ip_tables_names");
	for (char *line = names, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strcmp(line, XT_TABLE)) {
			*ret = true;
			break;
		}
	}
	return 0;
}

static void xtc_freep(struct xtc_handle **h)
{
	if (*h)
		iptc.free(*h);
}

/* A snapshot of the table. */
static int xt_init(struct xtc_handle **ret, struct nsg_err *e)
{
	struct xtc_handle *h = NULL;
	int err = 0;

	for (int try = 0; !h && try < XT_TRIES; try++) {
		h = iptc.init(XT_TABLE);
		err = h ? 0 : errno;
		if (err != EAGAIN)
			break;
	}
	if (!h) {
		nsg_fail(e, err ? -err : -EIO, NULL, XT_WHAT);
		nsg_why(e, "cannot read it: %s", iptc.strerror(err));
		return err ? -err : -EIO;
	}
	*ret = h;
	return 0;
}

/* -------------------------------------------------------------- rules */

/* The port match of the DNS rules: `--dport 53` and every source port. */
static const struct xt_udp dns_udp = { .spts = { 0, 0xffff }, .dpts = { DNS_PORT, DNS_PORT } };
static const struct xt_tcp dns_tcp = { .spts = { 0, 0xffff }, .dpts = { DNS_PORT, DNS_PORT } };

/* How many bytes of the name `-i IFACE` matches (xtables_parse_interface):
 * those before a final '+', else the name with its NUL. */
static size_t iface_len(const char *iface)
{
	size_t len = strlen(iface);

	return iface[len - 1] == '+' ? len - 1 : len + 1;
}

/* `-i IFACE` as iptables keeps it: the name (with its '+'), the mask of
 * the bytes matched. */
static void iface_set(char *name, unsigned char *mask, const char *iface)
{
	snprintf(name, IFNAMSIZ, "%s", iface);
	memset(mask, 0xff, iface_len(iface));
}

static bool iface_is(const char *name, const unsigned char *mask, const char *iface)
{
	static const unsigned char zero[IFNAMSIZ];
	const size_t n = iface_len(iface);

	for (size_t i = 0; i < n; i++)
		if (mask[i] != 0xff)
			return false;
	return !memcmp(mask + n, zero, IFNAMSIZ - n) && !memcmp(name, iface, n);
}

/* Append match NAME with data (len bytes) at off; the offset after it. */
static size_t put_match(struct xt_rule *r, size_t off, const char *name, const void *data,
			size_t len)
{
	struct xt_entry_match *m = (struct xt_entry_match *)(r->b + off);

	m->u.user.match_size = XT_ALIGN(sizeof(*m)) + XT_ALIGN(len);
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	memcpy(m->data, data, len);
	return off + m->u.user.match_size;
}

/* Rule k as iptables-legacy builds it from
 *   -i nsg-+ [-p udp -m udp --dport 53] -m comment --comment nsgate -j ACCEPT
 * (or -o nsg-+; or -i nsg-+ -o docker0 (br-+) ... -j RETURN): ipt_entry,
 * the port match, the comment, the standard target with its verdict. */
static void rule_build(enum xt_kind k, struct xt_rule *r)
{
	struct ipt_entry *e = &r->e;
	struct xt_comment_info c = { .comment = FW_COMMENT };
	struct xt_standard_target *t;
	size_t off = sizeof(*e);

	memset(r, 0, sizeof(*r));
	if (k == XK_OUT)
		iface_set(e->ip.outiface, e->ip.outiface_mask, FW_IPT_IFNAME);
	else
		iface_set(e->ip.iniface, e->ip.iniface_mask, FW_IPT_IFNAME);
	if (kind_return(k))
		iface_set(e->ip.outiface, e->ip.outiface_mask,
			  k == XK_RET_DOCKER0 ? DOCKER_BRIDGE : DOCKER_BRIDGES);
	if (k == XK_DNS_UDP) {
		e->ip.proto = IPPROTO_UDP;
		off = put_match(r, off, "udp", &dns_udp, sizeof(dns_udp));
	} else if (k == XK_DNS_TCP) {
		e->ip.proto = IPPROTO_TCP;
		off = put_match(r, off, "tcp", &dns_tcp, sizeof(dns_tcp));
	}
	off = put_match(r, off, "comment", &c, sizeof(c));
	e->target_offset = off;
	t = (struct xt_standard_target *)(r->b + off);
	t->target.u.user.target_size = XT_ALIGN(sizeof(*t));
	/* libip4tc takes the verdict by its name and stores it as the kernel
	 * wants it: standard target "" with verdict -NF_ACCEPT - 1 (RETURN:
	 * XT_RETURN). */
	snprintf(t->target.u.user.name, sizeof(t->target.u.user.name), "%s",
		 kind_return(k) ? IPTC_LABEL_RETURN : IPTC_LABEL_ACCEPT);
	t->verdict = kind_return(k) ? XT_RETURN : -NF_ACCEPT - 1;
	e->next_offset = off + t->target.u.user.target_size;
}

/* What a rule's matches are: ours (comment FW_COMMENT), the one port
 * match (NULL: none), anything else. */
struct xt_matches {
	bool ours;
	bool other;
	const struct xt_entry_match *port;
	unsigned n_port;
};

static void matches_read(const struct ipt_entry *e, struct xt_matches *mm)
{
	size_t off = sizeof(*e);

	memset(mm, 0, sizeof(*mm));
	while (off + sizeof(struct xt_entry_match) <= e->target_offset) {
		const struct xt_entry_match *m = (const void *)((const char *)e + off);
		size_t len = m->u.match_size;

		if (len < sizeof(*m) || off + len > e->target_offset) {
			mm->other = true; /* malformed: nothing of ours */
			return;
		}
		if (!strcmp(m->u.user.name, "comment")) {
			const struct xt_comment_info *c = (const void *)m->data;

			if (len >= sizeof(*m) + sizeof(*c) &&
			    !strncmp(c->comment, FW_COMMENT, sizeof(c->comment)))
				mm->ours = true;
		} else if (!strcmp(m->u.user.name, "udp") || !strcmp(m->u.user.name, "tcp")) {
			mm->port = m;
			mm->n_port++;
		} else {
			mm->other = true;
		}
		off += len;
	}
}

/* The port match is exactly DNS's, of protocol proto. */
static bool port_dns(const struct xt_entry_match *m, uint16_t proto)
{
	const char *name = proto == IPPROTO_UDP ? "udp" : "tcp";
	const void *want = proto == IPPROTO_UDP ? (const void *)&dns_udp : (const void *)&dns_tcp;
	size_t len = proto == IPPROTO_UDP ? sizeof(dns_udp) : sizeof(dns_tcp);

	return !strcmp(m->u.user.name, name) && m->u.match_size >= sizeof(*m) + len &&
	       !memcmp(m->data, want, len);
}

/* No address, protocol or interface condition and no match but comments:
 * the rule applies to every packet. */
static bool rule_unconditional(const struct ipt_entry *e, const struct xt_matches *mm)
{
	static const struct ipt_ip any;

	return !memcmp(&e->ip, &any, sizeof(any)) && !mm->other && !mm->n_port;
}

/* The return shape of a rule with verdict RETURN and no address, flag or
 * other match: -i nsg-+ -o docker0 (or br-+), nothing else. */
static enum xt_kind return_kind(const struct ipt_ip *ip, const struct xt_matches *mm, bool in)
{
	if (!in || ip->proto || mm->n_port)
		return XK_NONE;
	if (iface_is(ip->outiface, ip->outiface_mask, DOCKER_BRIDGE))
		return XK_RET_DOCKER0;
	if (iface_is(ip->outiface, ip->outiface_mask, DOCKER_BRIDGES))
		return XK_RET_BRIDGES;
	return XK_NONE;
}

/* Which of nsgate's shapes rule e has, whoever added it (with any
 * comment, or none); *ours when it carries nsgate's. XK_NONE: none. */
static enum xt_kind rule_kind(const struct ipt_entry *e, const char *target,
			      const struct xt_matches *mm)
{
	const struct ipt_ip *ip = &e->ip;
	bool in = iface_is(ip->iniface, ip->iniface_mask, FW_IPT_IFNAME);
	bool out_any = !ip->outiface_mask[0];

	if (mm->other || ip->src.s_addr || ip->dst.s_addr || ip->smsk.s_addr || ip->dmsk.s_addr ||
	    ip->flags || ip->invflags)
		return XK_NONE;
	if (!strcmp(target, IPTC_LABEL_RETURN))
		return return_kind(ip, mm, in);
	if (strcmp(target, IPTC_LABEL_ACCEPT))
		return XK_NONE;
	if (!ip->proto && !mm->n_port) {
		if (in && out_any)
			return XK_IN;
		if (!ip->iniface_mask[0] && iface_is(ip->outiface, ip->outiface_mask, FW_IPT_IFNAME))
			return XK_OUT;
		return XK_NONE;
	}
	if (!in || !out_any || mm->n_port != 1 || !port_dns(mm->port, ip->proto))
		return XK_NONE;
	return ip->proto == IPPROTO_UDP ? XK_DNS_UDP : XK_DNS_TCP;
}

/* The rule ends the chain for every packet: nothing after it is reached. */
static bool rule_ends(const struct ipt_entry *e, const char *target,
		      const struct xt_matches *mm)
{
	return rule_unconditional(e, mm) &&
	       (!strcmp(target, IPTC_LABEL_DROP) || !strcmp(target, "REJECT") ||
		!strcmp(target, IPTC_LABEL_RETURN) || !strcmp(target, IPTC_LABEL_ACCEPT));
}

/* -------------------------------------------------------------- survey */

/* One chain as the survey needs it. */
struct xt_chain {
	bool exists;
	bool drops;          /* the first rule that ends it drops or rejects */
	bool have[XK_MAX];   /* a rule of each shape, ahead of any rule ending the chain
				(a return: ahead of any -i nsg-+ -j ACCEPT too) */
};

/* Scan chain: fill c, count nsgate's rules into *n_ours. */
static void chain_scan(struct xtc_handle *h, const char *chain, struct xt_chain *c,
		       unsigned *n_ours)
{
	bool ended = false;

	memset(c, 0, sizeof(*c));
	c->exists = true;
	for (const struct ipt_entry *r = iptc.first_rule(chain, h); r; r = iptc.next_rule(r, h)) {
		const char *target = iptc.get_target(r, h);
		struct xt_matches mm;
		enum xt_kind k;

		matches_read(r, &mm);
		k = rule_kind(r, target, &mm);
		if (mm.ours)
			(*n_ours)++;
		if (ended)
			continue;
		if (k != XK_NONE && !(kind_return(k) && c->have[XK_IN]))
			c->have[k] = true;
		if (rule_ends(r, target, &mm)) {
			ended = true;
			c->drops = !strcmp(target, IPTC_LABEL_DROP) || !strcmp(target, "REJECT");
		}
	}
}

/* A block for builtin chain when it drops by default; opened when the
 * accepting rules stand in it (or in DOCKER-USER, for FORWARD, below the
 * returns to Docker's bridges). */
static void survey_block(struct xtables_survey *sv, struct xtc_handle *h, const char *chain,
			 const struct xt_chain *c, const struct xt_chain *where, bool docker)
{
	struct xt_counters counters;
	const char *policy = iptc.get_policy(chain, &counters, h);
	bool forward = !strcmp(chain, "FORWARD");
	struct fw_block b = {
		.source = FW_SRC_IPTABLES_LEGACY,
		.hook = forward ? FW_HOOK_FORWARD : FW_HOOK_INPUT,
		.family = "ip",
		.table = XT_TABLE,
		.policy_drop = policy && !strcmp(policy, IPTC_LABEL_DROP),
		.iptables = true,
	};

	if (!b.policy_drop && !c->drops)
		return;
	snprintf(b.chain, sizeof(b.chain), "%s", chain);
	if (forward)
		b.opened = where->have[XK_IN] && where->have[XK_OUT] &&
			   (!docker || (where->have[XK_RET_DOCKER0] && where->have[XK_RET_BRIDGES]));
	else
		b.opened = where->have[XK_IN] || (where->have[XK_DNS_UDP] && where->have[XK_DNS_TCP]);
	fw_blocks_add(&sv->blocks, &b);
}

int xtables_survey(struct xtables_survey *sv, struct nsg_err *e)
{
	_cleanup_(xtc_freep) struct xtc_handle *h = NULL;
	struct xt_chain fwd = { 0 }, in = { 0 }, du = { 0 }, other;
	int r;

	memset(sv, 0, sizeof(*sv));
	r = xt_present(&sv->present, e);
	if (r < 0 || !sv->present)
		return r;
	r = xt_load(e);
	if (r < 0)
		return r;
	r = xt_init(&h, e);
	if (r < 0)
		return r;
	for (const char *c = iptc.first_chain(h); c; c = iptc.next_chain(h)) {
		struct xt_chain *into = !strcmp(c, "FORWARD") ? &fwd
				      : !strcmp(c, "INPUT")   ? &in
				      : !strcmp(c, FW_DOCKER_USER) ? &du
								   : &other;
		chain_scan(h, c, into, &sv->n_ours);
	}
	sv->docker_user = du.exists;
	survey_block(sv, h, "FORWARD", &fwd, du.exists ? &du : &fwd, du.exists);
	survey_block(sv, h, "INPUT", &in, &in, false);
	return 0;
}

/* -------------------------------------------------------------- changes */

/* A rule to delete: its chain and 0-based number there. */
struct xt_del {
	xt_chainlabel chain;
	unsigned num;
};

/* What a change does to a snapshot of the table. */
struct xt_plan {
	bool want[XK_MAX];        /* open: the shapes asked for */
	bool close;               /* close: delete every rule of ours */
	bool renew;               /* open: returns of ours go to the top anew */
	const char *fchain;       /* where forward shapes go */
	bool have[XK_MAX];        /* in place already */
	struct xt_del *del;
	size_t n_del, cap_del;
};

static void plan_freep(struct xt_plan *p) { free(p->del); }

static int plan_del(struct xt_plan *p, const char *chain, unsigned num)
{
	if (GROW(p->del, p->cap_del, p->n_del + 1) < 0)
		return -ENOMEM;
	snprintf(p->del[p->n_del].chain, sizeof(xt_chainlabel), "%s", chain);
	p->del[p->n_del++].num = num;
	return 0;
}

/* Decide for each rule of chain: ours to delete (close: all of them;
 * open: ours of a shape asked for that stand in the wrong chain, behind
 * the chain's end, twice, or returns below an accept or to renew), or a
 * shape in place (anyone's). */
static int plan_chain(struct xtc_handle *h, const char *chain, struct xt_plan *p)
{
	bool ended = false, in_seen = false;
	unsigned num = 0;

	for (const struct ipt_entry *r = iptc.first_rule(chain, h); r;
	     r = iptc.next_rule(r, h), num++) {
		const char *target = iptc.get_target(r, h);
		struct xt_matches mm;
		enum xt_kind k;
		bool placed;

		matches_read(r, &mm);
		k = rule_kind(r, target, &mm);
		placed = k != XK_NONE && !ended && !strcmp(chain, kind_chain(k, p->fchain)) &&
			 !(kind_return(k) && in_seen);
		in_seen = in_seen || (k == XK_IN && !ended);
		ended = ended || rule_ends(r, target, &mm);
		if (mm.ours && (p->close || (k != XK_NONE && p->want[k] &&
					     (!placed || p->have[k] || (p->renew && kind_return(k)))))) {
			if (plan_del(p, chain, num) < 0)
				return -ENOMEM;
		} else if (placed) {
			p->have[k] = true;
		} else if (k == XK_IN && !ended && !strcmp(chain, "INPUT")) {
			/* An admin's -i nsg-+ -j ACCEPT there takes DNS too. */
			p->have[XK_DNS_UDP] = p->have[XK_DNS_TCP] = true;
		}
	}
	return 0;
}

/* Plan every chain of snapshot h. */
static int plan_chains(struct xtc_handle *h, struct xt_plan *p)
{
	for (const char *c = iptc.first_chain(h); c; c = iptc.next_chain(h))
		if (plan_chain(h, c, p) < 0)
			return -ENOMEM;
	return 0;
}

/* Plan p on snapshot h and make it there; *changed when anything is. */
static int plan_apply(struct xtc_handle *h, struct xt_plan *p, bool *changed,
		      struct nsg_err *e)
{
	struct xt_rule rule;
	int err;

	*changed = false;
	if (plan_chains(h, p) < 0)
		return nsg_fail(e, -ENOMEM, NULL, XT_WHAT);
	/* An accept inserted at the top would stand above the returns in
	 * place: plan again, with ours among them put back above it. */
	if (p->want[XK_RET_DOCKER0] && (!p->have[XK_IN] || !p->have[XK_OUT]) &&
	    (p->have[XK_RET_DOCKER0] || p->have[XK_RET_BRIDGES])) {
		p->renew = true;
		p->n_del = 0;
		memset(p->have, 0, sizeof(p->have));
		if (plan_chains(h, p) < 0)
			return nsg_fail(e, -ENOMEM, NULL, XT_WHAT);
	}
	/* Backwards: numbers of a chain rise in the list, and a deletion
	 * renumbers only the rules after it. */
	for (size_t i = p->n_del; i-- > 0;) {
		if (!iptc.delete_num_entry(p->del[i].chain, p->del[i].num, h))
			goto fail;
		*changed = true;
	}
	/* Each at the top of its chain, the last first: the returns, -i, -o;
	 * udp, tcp. */
	for (int k = XK_MAX - 1; k >= 0; k--) {
		if (!p->want[k] || p->have[k])
			continue;
		rule_build(k, &rule);
		if (!iptc.insert_entry(kind_chain(k, p->fchain), &rule.e, 0, h))
			goto fail;
		*changed = true;
	}
	return 0;
fail:
	err = errno ? errno : EIO;
	nsg_fail(e, -err, NULL, XT_WHAT);
	nsg_why(e, "cannot change it: %s", iptc.strerror(err));
	return -err;
}

/* iptables' own lock, taken as iptables-legacy takes it (flock on the
 * file, created when missing); never through a link planted there. */
static int xt_lock(int *ret_fd, struct nsg_err *e)
{
	const char *env = getenv("XTABLES_LOCKFILE");
	const char *path = env && *env ? env : XT_LOCK_FILE;
	_cleanup_close_ int fd =
		open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	char comm[32] = "";
	pid_t pid;
	int r;

	if (fd < 0)
		return nsg_fail(e, -errno, errno == ELOOP ? "is a symbolic link" : NULL,
				"iptables' lock %s", path);
	r = lock_wait(fd, XT_LOCK_TIMEOUT_S);
	if (r == 0) {
		*ret_fd = TAKE_FD(fd);
		return 0;
	}
	if (r != -ETIMEDOUT)
		return nsg_fail(e, r, NULL, "iptables' lock %s", path);
	nsg_fail_kind(e, NSG_KIND_BUSY, r, NULL, "iptables' lock %s", path);
	pid = lock_holder_kernel(fd);
	if (pid > 0) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
		if (file_read_small(p, comm, sizeof(comm)) > 0)
			comm[strcspn(comm, "\n")] = '\0';
		nsg_why(e, "held by pid %d%s%s%s for more than %d s", (int)pid, *comm ? " (" : "",
			comm, *comm ? ")" : "", XT_LOCK_TIMEOUT_S);
	} else {
		nsg_why(e, "held by another process for more than %d s", XT_LOCK_TIMEOUT_S);
	}
	return r;
}

/* Under iptables' lock: read the table, plan the change on the snapshot,
 * commit it when it changed anything; read anew when the commit finds the
 * table changed by someone else meanwhile. */
static int xt_change(struct xt_plan *want, struct nsg_err *e)
{
	_cleanup_close_ int lock = -1;
	bool present;
	int r = xt_present(&present, e);

	if (r < 0 || !present)
		return r;
	r = xt_load(e);
	if (r == 0)
		r = xt_lock(&lock, e);
	for (int try = 1; r == 0; try++) {
		_cleanup_(xtc_freep) struct xtc_handle *h = NULL;
		_cleanup_(plan_freep) struct xt_plan p = *want;
		bool changed, docker;

		r = xt_init(&h, e);
		if (r < 0)
			break;
		docker = iptc.is_chain(FW_DOCKER_USER, h);
		p.fchain = docker ? FW_DOCKER_USER : "FORWARD";
		/* Only Docker's layout has Docker's bridges to leave to it. */
		p.want[XK_RET_DOCKER0] = p.want[XK_RET_BRIDGES] = p.want[XK_IN] && docker;
		r = plan_apply(h, &p, &changed, e);
		if (r < 0 || !changed || iptc.commit(h))
			break;
		r = errno ? -errno : -EIO;
		if (r == -EAGAIN && try < XT_TRIES) {
			r = 0;
			continue;
		}
		nsg_fail(e, r, NULL, XT_WHAT);
		nsg_why(e, "cannot write it: %s", iptc.strerror(-r));
	}
	if (lock >= 0)
		lock_release(TAKE_FD(lock));
	return r;
}

int xtables_open(bool forward, bool input, struct nsg_err *e)
{
	/* In Docker's layout the returns too: xt_change sees which. */
	struct xt_plan p = {
		.want = { [XK_IN] = forward, [XK_OUT] = forward,
			  [XK_DNS_UDP] = input, [XK_DNS_TCP] = input },
	};

	if (!forward && !input)
		return 0;
	return xt_change(&p, e);
}

int xtables_close(struct nsg_err *e)
{
	struct xt_plan p = { .close = true };

	return xt_change(&p, e);
}
