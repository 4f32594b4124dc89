/* SPDX-License-Identifier: MIT */
/*
 * nsgate-cni: a CNI plugin (installed as "nsgate" in the runtime's plugin
 * directory). The runtime's environment and stdin in; one JSON document on
 * stdout (the result, or a CNI error with a non-zero exit); one line on
 * stderr for an error, for the runtime's log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"

#define _cleanup_conf_ _cleanup_(cni_conf_clear)

/* stdin whole, up to one byte past what jv_parse takes (so it can say
 * "too long"). */
static int read_stdin(char **ret, size_t *n_ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		ssize_t k;

		if (GROW(buf, cap, n + 4096) < 0)
			return -ENOMEM;
		k = read(STDIN_FILENO, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0 || n + (size_t)k > JV_TEXT_MAX) {
			n += (size_t)k;
			break;
		}
		n += (size_t)k;
	}
	*ret = TAKE_PTR(buf);
	*n_ret = n;
	return 0;
}

static int print_doc(char *doc)
{
	if (!doc)
		return -ENOMEM;
	printf("%s\n", doc);
	free(doc);
	return fflush(stdout) == 0 ? 0 : -EIO;
}

static int fail(const struct cni_conf *c, const struct cni_error *ce)
{
	static const char *const cmds[] = { "ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS" };
	struct cni_error out = *ce;

	/* Which gateway it was about, for `nsgate show` in the runtime's log. */
	if (!out.details[0] && c && c->spec.name[0] && (size_t)c->cmd < ARRAY_SIZE(cmds))
		snprintf(out.details, sizeof(out.details), "%s of network \"%s\": gateway %s",
			 cmds[c->cmd], c->network, c->spec.name);
	if (out.details[0])
		fprintf(stderr, "nsgate-cni: %s (%s)\n", out.msg, out.details);
	else
		fprintf(stderr, "nsgate-cni: %s\n", out.msg);
	print_doc(cni_error_json(c ? c->version : NULL, &out));
	return out.code <= CNI_ERR_CONFIG ? 2 : 1;
}

static int core_fail(const struct cni_conf *c, const struct nsg_err *e, int r)
{
	struct cni_error ce = { 0 };

	cni_error_from(&ce, e, r);
	return fail(c, &ce);
}

static int cmd_add(struct cni_conf *c, const struct cni_env *env)
{
	struct gw_up_opts o = { .pubs = c->pubs, .n_pubs = c->n_pubs };
	struct gw_up_result res;
	struct gw_link_macs macs;
	struct cni_error ce = { 0 };
	struct nsg_err e = { 0 };
	int r;

	if (access(env->netns, F_OK) < 0) {
		cni_error_set(&ce, CNI_ERR_CONTAINER, NULL, "CNI_NETNS \"%s\": %s", env->netns,
			      strerror(errno));
		return fail(c, &ce);
	}
	r = gateway_up(&c->spec, &o, &res, &e);
	if (r < 0)
		return core_fail(c, &e, r);
	if (res.warning)
		fprintf(stderr, "nsgate-cni: warning: %s\n", res.warning);
	r = gateway_link_macs(c->spec.name, &macs, &e);
	if (r == 0 && !(macs.host_present && macs.ns_present))
		r = nsg_fail(&e, -ENODEV, "gone right after it was made", "gateway \"%s\"",
			     c->spec.name);
	if (r < 0) {
		struct nsg_err e2 = { 0 };
		bool found;

		/* The runtime sees a failed ADD: leave nothing behind. */
		gateway_down(c->spec.name, &found, &e2);
		return core_fail(c, &e, r);
	}
	r = print_doc(cni_result_json(c, &(struct cni_added){ .st = &res.state, .macs = &macs,
							       .sandbox = env->netns }));
	if (r < 0) {
		cni_error_set(&ce, CNI_ERR_IO, NULL, "writing the result: %s", strerror(-r));
		return fail(c, &ce);
	}
	return 0;
}

/* Idempotent: a gateway that is gone already (its namespace too) is done. */
static int cmd_del(struct cni_conf *c)
{
	struct nsg_err e = { 0 };
	bool found;
	int r = gateway_down(c->spec.name, &found, &e);

	return r < 0 ? core_fail(c, &e, r) : 0;
}

/* prevResult's interface named ifname in sandbox, or NULL. */
static const struct jv *prev_iface(const struct jv *prev, const char *ifname,
					   const char *sandbox)
{
	const struct jv *ifs = jv_get(prev, "interfaces");

	for (size_t i = 0; ifs && ifs->type == JV_ARRAY && i < ifs->arr.n; i++) {
		const char *n = jv_get_str(&ifs->arr.v[i], "name");
		const char *sb = jv_get_str(&ifs->arr.v[i], "sandbox");

		if (n && sb && !strcmp(n, ifname) && !strcmp(sb, sandbox))
			return &ifs->arr.v[i];
	}
	return NULL;
}

/* prevResult's ips must hold addr/plen. */
static int prev_need_ip(const struct jv *prev, const struct ip_addr *addr, unsigned plen,
			struct cni_error *ce)
{
	const struct jv *ips = jv_get(prev, "ips");
	char cidr[IP_ADDR_STRLEN + 4], buf[IP_ADDR_STRLEN];

	snprintf(cidr, sizeof(cidr), "%s/%u", ip_addr_str(addr, buf), plen);
	for (size_t i = 0; ips && ips->type == JV_ARRAY && i < ips->arr.n; i++) {
		const char *a = jv_get_str(&ips->arr.v[i], "address");

		if (a && !strcmp(a, cidr))
			return 0;
	}
	cni_error_set(ce, CNI_ERR_CONFIG, NULL, "prevResult: no address %s", cidr);
	return -EINVAL;
}

/* What CHECK compares of prevResult with the kernel, once the gateway is up. */
static int check_prev(const struct cni_conf *c, const struct gw_view *v, const char *netns,
		      struct cni_error *ce)
{
	const struct gw_spec *s = &v->state.spec;
	struct ip_addr ns = spec_gw_ns_addr(s), ns6 = spec_ns_addr6(&s->subnet6);
	const struct jv *pi = prev_iface(c->prev, s->ns_ifname, netns);
	char mac[18];
	struct gw_link_macs m;
	struct nsg_err e = { 0 };
	const char *pmac;
	int r;

	if (prev_need_ip(c->prev, &ns, s->subnet.plen, ce) < 0 ||
	    (spec_has_ipv6(s) && prev_need_ip(c->prev, &ns6, s->subnet6.plen, ce) < 0))
		return -EINVAL;
	r = gateway_link_macs(s->name, &m, &e);
	if (r < 0) {
		cni_error_from(ce, &e, r);
		return r;
	}
	if (!m.ns_present) {
		cni_error_set(ce, CNI_ERR_SYSTEM, NULL, "gateway \"%s\": link \"%s\" is missing in %s",
			      s->name, s->ns_ifname, netns);
		return -ENODEV;
	}
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m.ns[0], m.ns[1], m.ns[2],
		 m.ns[3], m.ns[4], m.ns[5]);
	pmac = pi ? jv_get_str(pi, "mac") : NULL;
	if (!pi || (pmac && strcasecmp(pmac, mac))) {
		cni_error_set(ce, CNI_ERR_SYSTEM, NULL, "gateway \"%s\": link \"%s\" in %s is not "
			      "prevResult's (mac %s)", s->name, s->ns_ifname, netns, mac);
		return -ENODEV;
	}
	return 0;
}

static int cmd_check(struct cni_conf *c, const struct cni_env *env)
{
	struct gw_view v = { 0 };
	struct cni_error ce = { 0 };
	struct nsg_err e = { 0 };
	int r;

	if (!c->prev) {
		cni_error_set(&ce, CNI_ERR_CONFIG, NULL, "CHECK: no prevResult");
		return fail(c, &ce);
	}
	r = gateway_view(c->spec.name, &v, &e);
	if (r < 0)
		return core_fail(c, &e, r);
	if (!v.have_state) {
		cni_error_set(&ce, CNI_ERR_CONTAINER, NULL, "gateway \"%s\": no such attachment",
			      c->spec.name);
	} else if (strcmp(v.status, "up")) {
		cni_error_set(&ce, CNI_ERR_SYSTEM, NULL, "gateway \"%s\": %s", c->spec.name, v.status);
	} else if (strcmp(v.state.spec.netns_path, env->netns)) {
		cni_error_set(&ce, CNI_ERR_CONTAINER, NULL, "gateway \"%s\": attached to %s, not %s",
			      c->spec.name, v.state.spec.netns_path, env->netns);
	} else if (check_prev(c, &v, env->netns, &ce) == 0 &&
		   (r = portmap_match(c->pubs, c->n_pubs, v.pub, v.n_pub, &e)) < 0) {
		cni_error_from(&ce, &e, r);
		ce.code = CNI_ERR_SYSTEM;
	}
	gateway_view_clear(&v);
	return ce.code ? fail(c, &ce) : 0;
}

/* Every attachment of this network (its gateways' name prefix) that the
 * runtime no longer knows. */
static int cmd_gc(struct cni_conf *c)
{
	struct gw_view *v = NULL;
	struct nsg_err e = { 0 }, first = { 0 };
	size_t n = 0;
	int r, r_first = 0;

	r = gateway_list(&v, &n, GW_LIST_BRIEF, &e);
	if (r < 0)
		return core_fail(c, &e, r);
	for (size_t i = 0; i < n; i++) {
		bool keep = strncmp(v[i].name, c->gc_prefix, strlen(c->gc_prefix)) != 0, found;

		for (size_t j = 0; !keep && j < c->n_valid; j++)
			keep = !strcmp(v[i].name, c->valid[j].name);
		if (!keep && (r = gateway_down(v[i].name, &found, &e)) < 0 && !r_first) {
			r_first = r;
			first = e;
		}
	}
	for (size_t i = 0; i < n; i++)
		gateway_view_clear(&v[i]);
	free(v);
	return r_first < 0 ? core_fail(c, &first, r_first) : 0;
}

/* Ready for ADDs: nsgate's state and the kernel can be read. */
static int cmd_status(struct cni_conf *c)
{
	struct gw_view *v = NULL;
	struct nsg_err e = { 0 };
	struct cni_error ce = { 0 };
	size_t n = 0;
	int r = gateway_list(&v, &n, GW_LIST_BRIEF, &e);

	for (size_t i = 0; i < n; i++)
		gateway_view_clear(&v[i]);
	free(v);
	if (r == 0)
		return 0;
	cni_error_from(&ce, &e, r);
	ce.code = CNI_ERR_UNAVAILABLE;
	return fail(c, &ce);
}

int main(void)
{
	const struct cni_env env = {
		.command = getenv("CNI_COMMAND"), .container_id = getenv("CNI_CONTAINERID"),
		.netns = getenv("CNI_NETNS"), .ifname = getenv("CNI_IFNAME"),
		.args = getenv("CNI_ARGS"), .path = getenv("CNI_PATH"),
	};
	_cleanup_conf_ struct cni_conf c = { 0 };
	_cleanup_free_ char *text = NULL;
	struct cni_error ce = { 0 };
	enum cni_cmd cmd;
	size_t len = 0;
	int r;

	if (cni_env_parse(&env, &cmd, &ce) < 0)
		return fail(NULL, &ce);
	r = read_stdin(&text, &len);
	if (cmd == CNI_VERSION)
		return print_doc(cni_version_json()) < 0 ? 1 : 0;
	if (r < 0) {
		cni_error_set(&ce, CNI_ERR_IO, NULL, "reading stdin: %s", strerror(-r));
		return fail(NULL, &ce);
	}
	r = cni_conf_parse(text, len, cmd, &env, &c, &ce);
	if (r == -ENOMEM)
		cni_error_set(&ce, CNI_ERR_SYSTEM, NULL, "out of memory");
	if (r < 0)
		return fail(&c, &ce);
	switch (cmd) {
	case CNI_ADD: return cmd_add(&c, &env);
	case CNI_DEL: return cmd_del(&c);
	case CNI_CHECK: return cmd_check(&c, &env);
	case CNI_GC: return cmd_gc(&c);
	case CNI_STATUS: return cmd_status(&c);
	default: return 0;
	}
}
