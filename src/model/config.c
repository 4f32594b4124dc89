/* SPDX-License-Identifier: MIT */
/*
 * The config file of `nsgate apply`, parsed with libinih.
 *
 * inih is driven through ini_parse_stream with our own line reader, which
 * feeds it exactly one line per call. That gives the handler the current line
 * number (inih's handler has none), and fixes what inih would get wrong for
 * us: an indented line would continue the previous value (multi-line values),
 * an over-long line would be split into two lines, a NUL byte would end the
 * text, a "[NAME]" without keys would never reach the handler, and "[a] junk"
 * or "[]" would pass. So the reader strips leading blanks and the trailing
 * CR, refuses long lines, and handles section headers itself; inih parses
 * "KEY = VALUE" lines (blanks around both trimmed, "; " inline comments) and
 * reports lines it cannot parse.
 */
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/config.h"
#include "nsgate/fileio.h"
#include "nsgate/network.h"

enum key { K_SUBNET, K_UPLINK, K_NETNS, K_DNS, K_PUBLISH, K_NO_HOST, K_FIREWALL, K_IPV6,
	   K_SUBNET6, K_LAN, K_ADDRESS, K_GATEWAY, K_NETWORK, K_COUNT };

static const char *const key_names[K_COUNT] = {
	[K_SUBNET] = "subnet", [K_UPLINK] = "uplink", [K_NETNS] = "netns",
	[K_DNS] = "dns",       [K_PUBLISH] = "publish", [K_NO_HOST] = "no_host",
	[K_FIREWALL] = "firewall", [K_IPV6] = "ipv6", [K_SUBNET6] = "subnet6",
	[K_LAN] = "lan", [K_ADDRESS] = "address", [K_GATEWAY] = "gateway",
	[K_NETWORK] = "network",
};

/* Where each gateway's keys were, for messages; parallel to config.gw. */
struct gw_lines {
	unsigned key[K_COUNT];    /* first line of each key, 0: not given */
	unsigned *pub;            /* line of each publish */
	size_t cap_pubs, cap_pub; /* of config_gw.pubs, of pub */
};

struct parser {
	const char *file;
	const char *text;
	size_t len, pos;
	unsigned lineno;          /* of the line inih is working on */
	struct config cfg;
	struct gw_lines *lines;
	size_t cap_gw, cap_lines; /* of cfg.gw, of lines */
	size_t cap_nets;          /* of cfg.nets */
	bool in_net;              /* the current section is a [network NET] */
	unsigned net_keys[4];     /* the lines of its subnet, isolated, ipv6, subnet6 */
	/* The first error; errors come in line order but for the checks
	 * across sections, so the earliest line wins. */
	int err;
	unsigned err_line;
	char why[sizeof(((struct nsg_err *)0)->why)];
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Record an error at line (the earliest wins) and return 0, which is what an
 * inih handler returns for "error". */
_printf_(3, 4) static int fail_at(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->err_line <= line)
		return 0;
	p->err = -EINVAL;
	p->err_line = line;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return 0;
}

static int fail_nomem(struct parser *p)
{
	p->err = -ENOMEM;
	p->err_line = 0;
	p->why[0] = '\0';
	return 0;
}

/* A spec_* error, reworded for a file: the option's "--subnet" becomes the
 * key "subnet", and a hint is added where a '#' was taken for a comment. */
static int fail_spec(struct parser *p, const char *value, const struct nsg_err *se)
{
	const char *what = se->what, *hint = "";

	if (!strncmp(what, "--", 2))
		what += 2;
	for (const char *h = strchr(value, '#'); h; h = strchr(h + 1, '#'))
		if (h > value && is_blank(h[-1])) {
			hint = " ('#' starts a comment only at the start of a line)";
			break;
		}
	return fail_at(p, p->lineno, "%s: %s%s", what, nsg_err_reason(se), hint);
}

static struct config_gw *cur_gw(struct parser *p)
{
	return p->cfg.n ? &p->cfg.gw[p->cfg.n - 1] : NULL;
}

#define NET_SECTION "network "

/* "[network NET]": start a network. */
static int net_section_start(struct parser *p, const char *name)
{
	struct nsg_err se = { 0 };
	struct config_net *net;

	while (is_blank(*name))
		name++;
	if (spec_name_check(name, &se) < 0)
		return fail_at(p, p->lineno, "section [network %s]: %s", name, nsg_err_reason(&se));
	for (size_t i = 0; i < p->cfg.n_nets; i++)
		if (!strcmp(p->cfg.nets[i].name, name))
			return fail_at(p, p->lineno, "section [network %s] appears twice (first on line %u)",
				       name, p->cfg.nets[i].line);
	if (GROW(p->cfg.nets, p->cap_nets, p->cfg.n_nets + 1) < 0)
		return fail_nomem(p);
	net = &p->cfg.nets[p->cfg.n_nets++];
	*net = (struct config_net){ .line = p->lineno };
	snprintf(net->name, sizeof(net->name), "%s", name);
	p->in_net = true;
	memset(p->net_keys, 0, sizeof(p->net_keys));
	return 1;
}

/* A key of a [network NET] section: subnet = CIDR, isolated = yes|no,
 * ipv6 = auto|on|off, subnet6 = PREFIX (parsed as up's options). */
static int net_key(struct parser *p, const char *name, const char *value)
{
	static const char *const keys[] = { "subnet", "isolated", "ipv6", "subnet6" };
	struct config_net *net = &p->cfg.nets[p->cfg.n_nets - 1];
	struct nsg_err se = { 0 };
	struct gw_spec v6 = { .ipv6 = net->ipv6 };
	size_t k = 0;
	int r = 0;

	while (k < ARRAY_SIZE(keys) && strcmp(name, keys[k]))
		k++;
	if (k == ARRAY_SIZE(keys))
		return fail_at(p, p->lineno, "unknown key \"%s\" in [network %s] (expected subnet, "
			       "isolated, ipv6 or subnet6)", name, net->name);
	if (p->net_keys[k])
		return fail_at(p, p->lineno, "\"%s\" given twice in [network %s] (first on line %u)",
			       name, net->name, p->net_keys[k]);
	p->net_keys[k] = p->lineno;
	if (k == 1) {
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return fail_at(p, p->lineno, "isolated: expected yes or no, not \"%s\"", value);
		net->isolated = !strcmp(value, "yes");
		return 1;
	}
	if (k == 0) {
		r = net_subnet_parse(value, &net->subnet, &se);
		net->subnet_given = r == 0;
	} else {
		r = k == 2 ? spec_ipv6_parse(value, &v6, &se) : spec_subnet6_parse(value, &v6, &se);
		net->ipv6 = v6.ipv6;
		if (r == 0 && k == 3) {
			net->subnet6 = v6.subnet6;
			net->subnet6_given = true;
		}
	}
	return r < 0 ? fail_spec(p, value, &se) : 1;
}

/* A "[NAME]" line (n bytes, blanks stripped): check it, start a gateway. */
static int section_start(struct parser *p, const char *line, size_t n)
{
	const char *close = memchr(line, ']', n), *rest;
	_cleanup_free_ char *name = NULL;
	struct nsg_err se = { 0 };
	struct config_gw *gw;
	int r;

	if (!close)
		return fail_at(p, p->lineno, "section header without closing ']'");
	for (rest = close + 1; rest < line + n && is_blank(*rest); rest++)
		;
	if (rest < line + n && *rest != '#' && *rest != ';')
		return fail_at(p, p->lineno, "unexpected text after ']': \"%.*s\"",
			       (int)(line + n - rest > 40 ? 40 : line + n - rest), rest);
	name = strndup(line + 1, close - line - 1);
	if (!name)
		return fail_nomem(p);
	if (!strncmp(name, NET_SECTION, strlen(NET_SECTION)))
		return net_section_start(p, name + strlen(NET_SECTION));
	p->in_net = false;
	r = spec_name_own_check(name, &se);
	if (r < 0)
		return fail_at(p, p->lineno, "section [%s]: %s", name, nsg_err_reason(&se));
	for (size_t i = 0; i < p->cfg.n; i++)
		if (!strcmp(p->cfg.gw[i].spec.name, name))
			return fail_at(p, p->lineno, "section [%s] appears twice (first on line %u)",
				       name, p->cfg.gw[i].line);

	if (GROW(p->cfg.gw, p->cap_gw, p->cfg.n + 1) < 0 ||
	    GROW(p->lines, p->cap_lines, p->cfg.n + 1) < 0)
		return fail_nomem(p);
	p->lines[p->cfg.n] = (struct gw_lines){ 0 };
	gw = &p->cfg.gw[p->cfg.n++];
	*gw = (struct config_gw){ .line = p->lineno };
	/* As `nsgate up NAME` fills it. */
	spec_init(&gw->spec);
	snprintf(gw->spec.name, sizeof(gw->spec.name), "%s", name);
	spec_host_ifname(gw->spec.name, gw->spec.host_ifname);
	snprintf(gw->spec.netns_path, sizeof(gw->spec.netns_path), "/run/netns/%s", name);
	return 1;
}

/* fgets() for inih: one line of the text per call, see the top. */
static char *read_line(char *buf, int num, void *stream)
{
	struct parser *p = stream;
	const char *line, *end, *nl;
	size_t n;

	if (p->err || p->pos >= p->len)
		return NULL;
	line = p->text + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	end = nl ? nl : p->text + p->len;
	p->pos = end - p->text + (nl ? 1 : 0);
	p->lineno++;

	if (p->lineno == 1 && end - line >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
		line += 3;    /* a UTF-8 byte order mark */
	while (line < end && is_blank(*line))
		line++;
	while (end > line && is_blank(end[-1]))
		end--;
	n = end - line;
	if (memchr(line, '\0', n)) {
		fail_at(p, p->lineno, "NUL byte in the line");
		return NULL;
	}
	if (num < 1 || n > (size_t)num - 1) {
		fail_at(p, p->lineno, "line longer than %d bytes", num - 1);
		return NULL;
	}
	if (*line == '[' && !section_start(p, line, n))
		return NULL;
	memcpy(buf, line, n);
	buf[n] = '\0';
	return buf;
}

static int add_publish(struct parser *p, struct config_gw *gw, struct gw_lines *l,
		       const struct portmap *pub)
{
	if (GROW(gw->pubs, l->cap_pubs, gw->n_pubs + 1) < 0 ||
	    GROW(l->pub, l->cap_pub, gw->n_pubs + 1) < 0)
		return fail_nomem(p);
	gw->pubs[gw->n_pubs] = *pub;
	l->pub[gw->n_pubs++] = p->lineno;
	return 1;
}

/* inih's callback for each "KEY = VALUE" line: nonzero for success. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	struct config_gw *gw = cur_gw(p);
	struct nsg_err se = { 0 };
	struct portmap pub;
	struct gw_lines *l;
	int k, r = 0;

	if (p->err)
		return 0;
	if (!name[0])
		return fail_at(p, p->lineno, "missing key before '='");
	if (p->in_net)
		return net_key(p, name, value);
	for (k = 0; k < K_COUNT; k++)
		if (!strcmp(name, key_names[k]))
			break;
	if (k == K_COUNT)
		return fail_at(p, p->lineno,
			       "unknown key \"%s\" (expected subnet, uplink, netns, dns, publish, no_host or firewall)%s",
			       name, strpbrk(name, " \t") ? "; missing '='?" : "");
	if (!gw)
		return fail_at(p, p->lineno,
			       "\"%s\" outside a section (a gateway starts with a [NAME] line)", name);
	l = &p->lines[p->cfg.n - 1];
	if (k != K_PUBLISH && k != K_NETWORK && l->key[k])
		return fail_at(p, p->lineno, "\"%s\" given twice in [%s] (first on line %u)", name,
			       gw->spec.name, l->key[k]);
	if (!value[0])
		return fail_at(p, p->lineno, "%s: empty value", name);

	switch (k) {
	case K_SUBNET: r = spec_subnet_parse(value, &gw->spec, &se); break;
	case K_NETNS: r = spec_netns_parse(value, &gw->spec, &se); break;
	case K_DNS: r = spec_dns_parse(value, &gw->spec, &se); break;
	case K_NO_HOST: r = spec_no_host_parse(value, &gw->spec, &se); break;
	case K_FIREWALL: r = spec_firewall_parse(value, &gw->spec, &se); break;
	case K_IPV6: r = spec_ipv6_parse(value, &gw->spec, &se); break;
	case K_SUBNET6: r = spec_subnet6_parse(value, &gw->spec, &se); break;
	case K_LAN: r = spec_lan_parse(value, &gw->spec, &se); break;
	case K_ADDRESS: r = spec_lan_address_parse(value, &gw->spec, &se); break;
	case K_GATEWAY: r = spec_lan_gateway_parse(value, &gw->spec, &se); break;
	case K_NETWORK:
		/* As up --network: a member of that network (made when missing). */
		r = spec_network_add(&gw->spec, value, &se);
		if (r < 0)
			snprintf(se.what, sizeof(se.what), "network \"%s\"", value);
		break;
	case K_UPLINK:
		r = spec_ifname_check(value, &se);
		if (r < 0)
			snprintf(se.what, sizeof(se.what), "uplink \"%s\"", value);
		else
			snprintf(gw->spec.uplink, sizeof(gw->spec.uplink), "%s", value);
		break;
	case K_PUBLISH:
		r = portmap_parse(value, &pub, &se);
		if (r == 0 && !add_publish(p, gw, l, &pub))
			return 0;
		break;
	}
	if (r < 0)
		return fail_spec(p, value, &se);
	if (!l->key[k])
		l->key[k] = p->lineno;
	return 1;
}

/* ------------------------------------------------------ across sections */

static void check_publishes(struct parser *p)
{
	char a[PORTMAP_STRLEN], b[PORTMAP_STRLEN];

	for (size_t i = 0; i < p->cfg.n; i++) {
		const struct config_gw *gw = &p->cfg.gw[i];

		for (size_t j = 0; j < gw->n_pubs; j++)
			for (size_t i2 = 0; i2 <= i; i2++) {
				const struct config_gw *o = &p->cfg.gw[i2];

				for (size_t j2 = 0; j2 < (i2 == i ? j : o->n_pubs); j2++) {
					if (!portmap_overlap(&gw->pubs[j], &o->pubs[j2]))
						continue;
					portmap_str(&gw->pubs[j], a);
					portmap_str(&o->pubs[j2], b);
					if (i2 == i)
						fail_at(p, p->lines[i].pub[j],
							"publish \"%s\": overlaps \"%s\" on line %u", a, b,
							p->lines[i2].pub[j2]);
					else
						fail_at(p, p->lines[i].pub[j],
							"publish \"%s\": overlaps \"%s\" of [%s] (line %u)", a,
							b, o->spec.name, p->lines[i2].pub[j2]);
					return;   /* later ones are on later lines */
				}
			}
	}
}

/* LAN mode's keys against the NAT's, as up checks the options: at the
 * line of the section's lan (or address, gateway) key. */
static void check_lan(struct parser *p)
{
	for (size_t i = 0; i < p->cfg.n; i++) {
		const struct config_gw *gw = &p->cfg.gw[i];
		const unsigned *key = p->lines[i].key;
		struct nsg_err se = { 0 };
		const char *what;

		if (spec_lan_check(&gw->spec, gw->n_pubs, &se) == 0)
			continue;
		what = !strncmp(se.what, "--", 2) ? se.what + 2 : se.what;
		fail_at(p, key[K_LAN] ? key[K_LAN] : key[K_ADDRESS] ? key[K_ADDRESS] : key[K_GATEWAY],
			"[%s]: %s: %s", gw->spec.name, what, nsg_err_reason(&se));
		return;
	}
}

static void check_subnets(struct parser *p)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];

	for (size_t i = 0; i < p->cfg.n; i++) {
		const struct gw_spec *s = &p->cfg.gw[i].spec;

		if (!s->subnet_given)
			continue;
		for (size_t i2 = 0; i2 < i; i2++) {
			const struct gw_spec *o = &p->cfg.gw[i2].spec;

			if (!o->subnet_given || !ip_prefix_overlap(&s->subnet, &o->subnet))
				continue;
			fail_at(p, p->lines[i].key[K_SUBNET], "subnet \"%s\": overlaps %s of [%s] (line %u)",
				ip_prefix_str(&s->subnet, a), ip_prefix_str(&o->subnet, b), o->name,
				p->lines[i2].key[K_SUBNET]);
			return;
		}
	}
}

static void check_netns(struct parser *p)
{
	for (size_t i = 0; i < p->cfg.n; i++) {
		const struct config_gw *gw = &p->cfg.gw[i];
		unsigned line = p->lines[i].key[K_NETNS] ?: gw->line;

		for (size_t i2 = 0; i2 < i; i2++) {
			const struct config_gw *o = &p->cfg.gw[i2];
			unsigned oline = p->lines[i2].key[K_NETNS] ?: o->line;

			if (strcmp(gw->spec.netns_path, o->spec.netns_path))
				continue;
			if (gw->spec.netns_kind == GW_NETNS_OWN)
				fail_at(p, line, "section [%s]: its namespace %s is also the one of [%s] (line %u)",
					gw->spec.name, gw->spec.netns_path, o->spec.name, oline);
			else
				fail_at(p, line, "netns \"%s\": %s is also the namespace of [%s] (line %u)",
					gw->spec.netns_arg, gw->spec.netns_path, o->spec.name, oline);
			return;
		}
	}
}

/* A network member's addresses and masquerade are its network's: what up
 * --network refuses is refused here, so that a bad file changes nothing. */
static void check_networks(struct parser *p)
{
	static const enum key not_with[] = { K_SUBNET, K_SUBNET6, K_UPLINK, K_NO_HOST };

	for (size_t i = 0; i < p->cfg.n; i++) {
		const struct gw_spec *s = &p->cfg.gw[i].spec;

		if (!s->network[0])
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(not_with); k++)
			if (p->lines[i].key[not_with[k]] &&
			    (not_with[k] != K_NO_HOST || s->no_host))
				fail_at(p, p->lines[i].key[not_with[k]],
					"%s: not for a member of network \"%s\" (line %u)",
					key_names[not_with[k]], s->network, p->lines[i].key[K_NETWORK]);
		/* ipv6 = on|off must match the network's (up checks it). */
	}
}

/* ----------------------------------------------------------------- parse */

static void lines_free(struct gw_lines *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].pub);
	free(l);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->gw[i].pubs);
		free(c->gw[i].pub_lines);
	}
	free(c->gw);
	free(c->nets);
	free(c->file);
	*c = (struct config){ 0 };
}

/* Hand the lines of the keys apply checks over to the gateways. */
static void lines_give(struct parser *p)
{
	for (size_t i = 0; i < p->cfg.n; i++) {
		struct config_gw *gw = &p->cfg.gw[i];
		struct gw_lines *l = &p->lines[i];

		gw->netns_line = l->key[K_NETNS];
		gw->subnet_line = l->key[K_SUBNET];
		gw->uplink_line = l->key[K_UPLINK];
		gw->pub_lines = TAKE_PTR(l->pub);
	}
}

const struct config_gw *config_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->gw[i].spec.name, name))
			return &c->gw[i];
	return NULL;
}

/* The text of line `line`, blanks stripped, for a message. */
static void line_text(const char *text, size_t len, unsigned line, const char **ret, int *ret_len)
{
	const char *s = text, *end = text + len, *nl;

	for (unsigned i = 1; i < line && s < end; i++) {
		nl = memchr(s, '\n', end - s);
		s = nl ? nl + 1 : end;
	}
	nl = memchr(s, '\n', end - s);
	if (nl)
		end = nl;
	while (s < end && is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	*ret = s;
	*ret_len = end - s > 40 ? 40 : (int)(end - s);
}

static int parse_mem(const char *text, size_t len, const char *file, struct config *ret,
		     struct nsg_err *e)
{
	struct parser p = { .file = file ?: "config", .text = text, .len = len };
	int r;

	*ret = (struct config){ 0 };
	r = ini_parse_stream(read_line, &p, on_key, &p);
	if (r < 0 && !p.err)
		fail_nomem(&p);   /* -2: inih could not allocate its line */
	if (r > 0 && (!p.err || (unsigned)r < p.err_line) && p.err != -ENOMEM) {
		/* A line inih could not parse (ours are all handled above). */
		const char *s;
		int n;

		line_text(text, len, r, &s, &n);
		fail_at(&p, r, "cannot parse \"%.*s%s\" (expected [NAME], KEY = VALUE or a # comment)",
			n, s, n == 40 ? "..." : "");
	}
	if (!p.err) {
		check_publishes(&p);
		check_subnets(&p);
		check_netns(&p);
		check_lan(&p);
		check_networks(&p);
	}
	if (!p.err) {
		p.cfg.file = strdup(p.file);
		if (!p.cfg.file)
			fail_nomem(&p);
	}
	if (!p.err)
		lines_give(&p);
	lines_free(p.lines, p.cfg.n);
	if (p.err) {
		config_free(&p.cfg);
		if (p.err == -ENOMEM)
			return nsg_fail(e, -ENOMEM, NULL, "%s", p.file);
		if (strlen(p.file) > 150)   /* keep the line number in e->what */
			return nsg_fail(e, p.err, p.why, "...%s:%u", p.file + strlen(p.file) - 150,
					p.err_line);
		return nsg_fail(e, p.err, p.why, "%s:%u", p.file, p.err_line);
	}
	*ret = p.cfg;
	return 0;
}

int config_parse_string(const char *text, const char *name_for_errors, struct config *ret,
			struct nsg_err *e)
{
	return parse_mem(text, strlen(text), name_for_errors, ret, e);
}

int config_parse_file(const char *path, struct config *ret, struct nsg_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	*ret = (struct config){ 0 };
	r = file_read_all(path, CONFIG_FILE_MAX, &buf, &len);
	/* No config file is that large: bad input, not a failure of the system. */
	if (r == -EFBIG)
		return nsg_fail_kind(e, NSG_KIND_INPUT, r, "too large (over 16 MiB)",
				     "config file \"%s\"", path);
	if (r == -ETIMEDOUT)
		return nsg_fail_kind(e, NSG_KIND_INPUT, r, "nothing was written to it in 10 s "
				     "(a FIFO without a writer?)", "config file \"%s\"", path);
	if (r < 0)
		return nsg_fail(e, r, NULL, "config file \"%s\"", path);
	return parse_mem(buf, len, path, ret, e);
}
