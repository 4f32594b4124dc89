/* SPDX-License-Identifier: MIT */
/* The runtime's environment and network configuration, read into a gw_spec. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cni.h"

static const char *const versions[] = { "0.4.0", "1.0.0", "1.1.0" };

void cni_error_set(struct cni_error *ce, int code, const char *details, const char *fmt, ...)
{
	va_list ap;

	ce->code = code;
	va_start(ap, fmt);
	vsnprintf(ce->msg, sizeof(ce->msg), fmt, ap);
	va_end(ap);
	snprintf(ce->details, sizeof(ce->details), "%s", details ? details : "");
}

/* Input errors of the config are code 7; what and why as nsgate says them. */
static int conf_fail(struct cni_error *ce, int code, const char *fmt, ...) _printf_(3, 4);
static int conf_fail(struct cni_error *ce, int code, const char *fmt, ...)
{
	va_list ap;

	ce->code = code;
	ce->details[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(ce->msg, sizeof(ce->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void cni_error_from(struct cni_error *ce, const struct nsg_err *e, int r)
{
	static const int codes[] = {
		[NSG_KIND_SYSTEM] = CNI_ERR_SYSTEM,    [NSG_KIND_INPUT] = CNI_ERR_CONFIG,
		[NSG_KIND_CONFLICT] = CNI_ERR_CONFLICT, [NSG_KIND_NOT_FOUND] = CNI_ERR_CONTAINER,
		[NSG_KIND_BUSY] = CNI_ERR_AGAIN,       [NSG_KIND_PERM] = CNI_ERR_PERM,
		[NSG_KIND_UNSUPPORTED] = CNI_ERR_KERNEL,
	};
	/* An error the core left without detail: the errno says it all. */
	struct nsg_err x = e && e->code ? *e : (struct nsg_err){ .code = r, .kind = nsg_kind_of(r) };
	int code = (size_t)x.kind < ARRAY_SIZE(codes) && codes[x.kind] ? codes[x.kind] : CNI_ERR_SYSTEM;

	if (x.what[0])
		cni_error_set(ce, code, NULL, "%s: %s", x.what, nsg_err_reason(&x));
	else
		cni_error_set(ce, code, NULL, "%s", nsg_err_reason(&x));
}

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++)
		if (!strcmp(v, versions[i]))
			return true;
	return false;
}

/* A container id as the spec has it: alphanumerics, then also _ . -. */
static bool container_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* CNI_ARGS "K=V;K=V": nsgate knows no key; unknown ones are an error
 * unless IgnoreUnknown is 1 or true (as the spec's conventions say). */
static int args_parse(const char *args, struct cni_error *ce)
{
	_cleanup_free_ char *copy = strdup(args);
	char *save = NULL, *unknown = NULL;
	bool ignore = false;

	if (!copy)
		return -ENOMEM;
	for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || eq == kv)
			return conf_fail(ce, CNI_ERR_ENV, "CNI_ARGS: \"%s\" is not KEY=VALUE", kv);
		*eq = '\0';
		if (!strcmp(kv, "IgnoreUnknown")) {
			if (strcmp(eq + 1, "1") && strcasecmp(eq + 1, "true") && strcmp(eq + 1, "0") &&
			    strcasecmp(eq + 1, "false"))
				return conf_fail(ce, CNI_ERR_ENV, "CNI_ARGS: IgnoreUnknown=%s is not a "
						 "boolean", eq + 1);
			ignore = !strcmp(eq + 1, "1") || !strcasecmp(eq + 1, "true");
		} else if (!unknown) {
			unknown = kv;
		}
	}
	if (unknown && !ignore)
		return conf_fail(ce, CNI_ERR_ENV, "CNI_ARGS: unknown key \"%s\" (IgnoreUnknown=1 "
				 "to pass it)", unknown);
	return 0;
}

static int env_need(const char *v, const char *name, struct cni_error *ce)
{
	if (!v || !*v)
		return conf_fail(ce, CNI_ERR_ENV, "%s: missing", name);
	return 0;
}

int cni_env_parse(const struct cni_env *env, enum cni_cmd *cmd, struct cni_error *ce)
{
	static const char *const names[] = { "ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS" };
	struct nsg_err e = { 0 };
	size_t i;

	if (env_need(env->command, "CNI_COMMAND", ce) < 0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(names) && strcmp(env->command, names[i]); i++)
		;
	if (i == ARRAY_SIZE(names))
		return conf_fail(ce, CNI_ERR_ENV, "CNI_COMMAND: unknown command \"%s\"", env->command);
	*cmd = (enum cni_cmd)i;
	if (*cmd != CNI_ADD && *cmd != CNI_DEL && *cmd != CNI_CHECK)
		return 0;
	if (env_need(env->container_id, "CNI_CONTAINERID", ce) < 0 ||
	    env_need(env->ifname, "CNI_IFNAME", ce) < 0)
		return -EINVAL;
	/* DEL may come after the namespace is gone: the spec lets it omit it. */
	if (*cmd != CNI_DEL && env_need(env->netns, "CNI_NETNS", ce) < 0)
		return -EINVAL;
	if (!container_id_ok(env->container_id))
		return conf_fail(ce, CNI_ERR_ENV, "CNI_CONTAINERID: \"%s\" is not a container id "
				 "(alphanumerics, then also _ . -)", env->container_id);
	if (spec_ifname_check(env->ifname, &e) < 0)
		return conf_fail(ce, CNI_ERR_ENV, "CNI_IFNAME: %s", nsg_err_reason(&e));
	if (env->netns && *env->netns && env->netns[0] != '/')
		return conf_fail(ce, CNI_ERR_ENV, "CNI_NETNS: \"%s\" is not an absolute path",
				 env->netns);
	return env->args && *env->args ? args_parse(env->args, ce) : 0;
}

static uint64_t fnv1a64(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

void cni_gateway_name(const char *network, const char *container_id, const char *ifname,
		      char ret[GW_NAME_MAX + 1])
{
	const uint64_t basis = 14695981039346656037ull;
	uint64_t net = fnv1a64(basis, network, strlen(network));
	/* The NUL between them: ("ab", "c") and ("a", "bc") differ. */
	uint64_t att = fnv1a64(fnv1a64(basis, container_id, strlen(container_id) + 1), ifname,
			       strlen(ifname));

	snprintf(ret, GW_NAME_MAX + 1, GW_CNI_PREFIX "%03x%08x", (unsigned)(net & 0xfff),
		 (unsigned)(att ^ (att >> 32)));
}

static int pm_cmp(const void *a, const void *b)
{
	const struct portmap *x = a, *y = b;
	int c = ip_addr_cmp(&x->host_addr, &y->host_addr);

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (c)
		return c;
	return x->host_port < y->host_port ? -1 : x->host_port > y->host_port;
}

size_t cni_ports_collapse(struct portmap *v, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), pm_cmp);
	for (size_t i = 1; i < n; i++) {
		struct portmap *last = &v[k];

		if (v[i].proto == last->proto && ip_addr_eq(&v[i].host_addr, &last->host_addr) &&
		    (uint32_t)v[i].host_port == last->host_port + last->count &&
		    (uint32_t)v[i].port == last->port + last->count) {
			last->count += v[i].count;
			continue;
		}
		v[++k] = v[i];
	}
	return k + 1;
}

void cni_conf_clear(struct cni_conf *c)
{
	jv_free(c->root);
	free(c->pubs);
	free(c->valid);
	*c = (struct cni_conf){ 0 };
}

/* Member key of obj when it has type t (NULL when absent); -EINVAL when of
 * another type. */
static int member(const struct jv *obj, const char *key, enum jv_type t,
		  const struct jv **ret, struct cni_error *ce)
{
	const struct jv *v = jv_get(obj, key);

	*ret = NULL;
	if (v && v->type != t)
		return conf_fail(ce, CNI_ERR_CONFIG, "\"%s\": must be %s, not %s", key,
				 jv_type_name(t), jv_type_name(v->type));
	*ret = v;
	return 0;
}

/* A network name as the spec has it (container_id_ok's alphabet). */
static int conf_header(const struct jv *root, struct cni_conf *c, struct cni_error *ce)
{
	const struct jv *v, *n, *t;

	if (root->type != JV_OBJECT)
		return conf_fail(ce, CNI_ERR_DECODE, "the network configuration is not a JSON object");
	if (member(root, "cniVersion", JV_STRING, &v, ce) < 0 ||
	    member(root, "name", JV_STRING, &n, ce) < 0 || member(root, "type", JV_STRING, &t, ce) < 0)
		return -EINVAL;
	if (!v)
		return conf_fail(ce, CNI_ERR_CONFIG, "\"cniVersion\": missing");
	if (!cni_version_supported(v->str))
		return conf_fail(ce, CNI_ERR_VERSION, "cniVersion \"%.32s\": not supported (0.4.0, "
				 "1.0.0, 1.1.0)", v->str);
	snprintf(c->version, sizeof(c->version), "%s", v->str);
	if (!n || strlen(n->str) >= sizeof(c->network) || !container_id_ok(n->str))
		return conf_fail(ce, CNI_ERR_CONFIG, "\"name\": missing or not a network name");
	snprintf(c->network, sizeof(c->network), "%s", n->str);
	if (t && strcmp(t->str, "nsgate"))
		return conf_fail(ce, CNI_ERR_CONFIG, "\"type\": \"%.64s\" is not \"nsgate\"", t->str);
	return 0;
}

static int uint_of(const struct jv *v, const char *what, long max, long *ret,
		   struct cni_error *ce)
{
	if (!v || v->type != JV_NUMBER || !v->is_int || v->i < 0 || v->i > max)
		return conf_fail(ce, CNI_ERR_CONFIG, "%s: must be an integer 0..%ld", what, max);
	*ret = (long)v->i;
	return 0;
}

/* One runtimeConfig.portMappings entry; an IPv6 hostIP only for a gateway
 * that may be dual-stack (v6). */
static int port_parse(const struct jv *pm, bool v6, struct portmap *p, struct cni_error *ce)
{
	const struct jv *proto = jv_get(pm, "protocol"), *ip = jv_get(pm, "hostIP");
	long hp = 0, cp = 0;

	if (pm->type != JV_OBJECT)
		return conf_fail(ce, CNI_ERR_CONFIG, "portMappings: an entry is not an object");
	if (uint_of(jv_get(pm, "hostPort"), "portMappings: hostPort", 65535, &hp, ce) < 0 ||
	    uint_of(jv_get(pm, "containerPort"), "portMappings: containerPort", 65535, &cp, ce) < 0)
		return -EINVAL;
	if (hp == 0 || cp == 0)
		return conf_fail(ce, CNI_ERR_CONFIG, "portMappings: port 0");
	*p = (struct portmap){ .host_port = (uint16_t)hp, .port = (uint16_t)cp, .count = 1,
			       .proto = IPPROTO_TCP };
	if (proto && (proto->type != JV_STRING ||
		      (strcasecmp(proto->str, "tcp") && strcasecmp(proto->str, "udp") &&
		       strcasecmp(proto->str, "sctp"))))
		return conf_fail(ce, CNI_ERR_CONFIG, "portMappings: protocol must be tcp, udp or sctp");
	if (proto && !strcasecmp(proto->str, "udp"))
		p->proto = IPPROTO_UDP;
	else if (proto && !strcasecmp(proto->str, "sctp"))
		p->proto = IPPROTO_SCTP;
	if (ip && ip->type != JV_STRING)
		return conf_fail(ce, CNI_ERR_CONFIG, "portMappings: hostIP must be a string");
	/* "", 0.0.0.0 and :: are every address (both families' for a
	 * dual-stack gateway); an IPv6 one needs "ipv6" on or auto. */
	if (!ip || !ip->str[0] || !strcmp(ip->str, "0.0.0.0") || (v6 && !strcmp(ip->str, "::")))
		return 0;
	if (ip_addr_parse(ip->str, v6 ? AF_UNSPEC : AF_INET, &p->host_addr) < 0)
		return conf_fail(ce, CNI_ERR_CONFIG, "portMappings: hostIP \"%.64s\" is not an %s "
				 "address", ip->str, v6 ? "IP" : "IPv4 (\"ipv6\" is off)");
	return 0;
}

static int ports_parse(const struct jv *root, struct cni_conf *c, struct cni_error *ce)
{
	const struct jv *rc, *pms;
	struct nsg_err e = { 0 };

	if (member(root, "runtimeConfig", JV_OBJECT, &rc, ce) < 0 ||
	    member(rc, "portMappings", JV_ARRAY, &pms, ce) < 0)
		return -EINVAL;
	if (!pms || pms->arr.n == 0)
		return 0;
	c->pubs = calloc(pms->arr.n, sizeof(*c->pubs));
	if (!c->pubs)
		return -ENOMEM;
	for (size_t i = 0; i < pms->arr.n; i++)
		if (port_parse(&pms->arr.v[i], c->spec.ipv6 != GW_IPV6_OFF, &c->pubs[i], ce) < 0)
			return -EINVAL;
	c->n_pubs = cni_ports_collapse(c->pubs, pms->arr.n);
	if (portmap_check_disjoint(c->pubs, c->n_pubs, &e) < 0)
		return conf_fail(ce, CNI_ERR_CONFIG, "portMappings: %s: %s", e.what, nsg_err_reason(&e));
	return 0;
}

/* "dns": {"nameservers": [...]}: what the result reports for the runtime's
 * resolv.conf (nsgate writes none into a namespace it did not make). */
static int dns_parse(const struct jv *root, struct cni_conf *c, struct cni_error *ce)
{
	const struct jv *dns, *ns;

	if (member(root, "dns", JV_OBJECT, &dns, ce) < 0 ||
	    member(dns, "nameservers", JV_ARRAY, &ns, ce) < 0)
		return -EINVAL;
	for (size_t i = 0; ns && i < ns->arr.n; i++) {
		const struct jv *a = &ns->arr.v[i];

		if (c->n_dns == GW_DNS_MAX)
			return conf_fail(ce, CNI_ERR_CONFIG, "dns: more than %d nameservers", GW_DNS_MAX);
		if (a->type != JV_STRING || ip_addr_parse(a->str, AF_UNSPEC, &c->dns[c->n_dns]) < 0)
			return conf_fail(ce, CNI_ERR_CONFIG, "dns: a nameserver is not an IP address");
		c->n_dns++;
	}
	return 0;
}

/* nsgate's own keys: subnetPool, uplink, noHost, firewall, network, ipv6. */
static int gateway_keys(const struct jv *root, struct gw_spec *s, struct cni_error *ce)
{
	const struct jv *pool, *up, *nh, *fw, *net, *masq, *v6;
	struct nsg_err e = { 0 };

	if (member(root, "subnetPool", JV_STRING, &pool, ce) < 0 ||
	    member(root, "uplink", JV_STRING, &up, ce) < 0 ||
	    member(root, "noHost", JV_BOOL, &nh, ce) < 0 ||
	    member(root, "firewall", JV_STRING, &fw, ce) < 0 ||
	    member(root, "network", JV_STRING, &net, ce) < 0 ||
	    member(root, "ipMasq", JV_BOOL, &masq, ce) < 0 ||
	    member(root, "ipv6", JV_STRING, &v6, ce) < 0)
		return -EINVAL;
	if (v6 && spec_ipv6_parse(v6->str, s, &e) < 0)
		return conf_fail(ce, CNI_ERR_CONFIG, "\"ipv6\": %s", nsg_err_reason(&e));
	if (masq && !masq->b)
		return conf_fail(ce, CNI_ERR_FIELD, "\"ipMasq\": false is not supported (nsgate "
				 "always masquerades)");
	if (pool && (ip_prefix_parse(pool->str, AF_INET, &s->pool) < 0 || s->pool.plen < 8 ||
		     s->pool.plen > GW_SUBNET_PLEN))
		return conf_fail(ce, CNI_ERR_CONFIG, "\"subnetPool\": \"%.64s\" is not an IPv4 prefix "
				 "/8../30 (host bits zero)", pool->str);
	if (up && spec_ifname_check(up->str, &e) < 0)
		return conf_fail(ce, CNI_ERR_CONFIG, "\"uplink\": %s", nsg_err_reason(&e));
	if (up)
		snprintf(s->uplink, sizeof(s->uplink), "%s", up->str);
	s->no_host = nh && nh->b;
	if (fw && spec_firewall_parse(fw->str, s, &e) < 0)
		return conf_fail(ce, CNI_ERR_CONFIG, "\"firewall\": %s", nsg_err_reason(&e));
	if (net && spec_network_add(s, net->str, &e) < 0)
		return conf_fail(ce, CNI_ERR_CONFIG, "\"network\": %s: %s", e.what, nsg_err_reason(&e));
	if (net && pool)
		return conf_fail(ce, CNI_ERR_CONFIG, "\"subnetPool\": not with \"network\" (a "
				 "network has its own subnet)");
	return 0;
}

/* Every key must be known: a misspelt one would be ignored silently. Keys
 * with a '/' (cni.dev/...) are the runtime's. */
static int keys_known(const struct jv *root, struct cni_error *ce)
{
	static const char *const known[] = {
		"cniVersion", "name", "type", "args", "capabilities", "runtimeConfig", "prevResult",
		"dns", "ipMasq", "subnetPool", "uplink", "noHost", "firewall", "network", "ipv6",
	};

	for (size_t i = 0; i < root->obj.n; i++) {
		const char *k = root->obj.m[i].key;
		size_t j;

		for (j = 0; j < ARRAY_SIZE(known) && strcmp(k, known[j]); j++)
			;
		if (j == ARRAY_SIZE(known) && !strchr(k, '/'))
			return conf_fail(ce, CNI_ERR_FIELD, "\"%.64s\": unknown field", k);
	}
	return 0;
}

/* GC: cni.dev/valid-attachments, each {"containerID", "ifname"}. */
static int valid_parse(const struct jv *root, struct cni_conf *c, struct cni_error *ce)
{
	const struct jv *va;

	if (member(root, "cni.dev/valid-attachments", JV_ARRAY, &va, ce) < 0)
		return -EINVAL;
	cni_gateway_name(c->network, "", "", c->gc_prefix);
	c->gc_prefix[strlen(GW_CNI_PREFIX) + 3] = '\0';
	if (!va || va->arr.n == 0)
		return 0;
	c->valid = calloc(va->arr.n, sizeof(*c->valid));
	if (!c->valid)
		return -ENOMEM;
	for (size_t i = 0; i < va->arr.n; i++) {
		const char *id = jv_get_str(&va->arr.v[i], "containerID");
		const char *ifn = jv_get_str(&va->arr.v[i], "ifname");

		if (!id || !ifn)
			return conf_fail(ce, CNI_ERR_CONFIG, "cni.dev/valid-attachments: an entry "
					 "without containerID or ifname");
		cni_gateway_name(c->network, id, ifn, c->valid[c->n_valid++].name);
	}
	return 0;
}

/* The gateway of the attachment env names, as nsgate-cni makes them. */
static int spec_fill(struct cni_conf *c, const struct cni_env *env, struct cni_error *ce)
{
	struct gw_spec *s = &c->spec;
	struct nsg_err e = { 0 };

	cni_gateway_name(c->network, env->container_id, env->ifname, s->name);
	spec_host_ifname(s->name, s->host_ifname);
	snprintf(s->ns_ifname, sizeof(s->ns_ifname), "%s", env->ifname);
	/* The runtime writes the container's resolv.conf from the result;
	 * IPv6 only when the config asks ("ipv6"): a dual-stack result on a
	 * single-stack cluster would give its pods addresses it refuses. */
	s->dns_mode = GW_DNS_NONE;
	s->ipv6 = GW_IPV6_OFF;
	if (env->netns && *env->netns && spec_netns_parse(env->netns, s, &e) < 0)
		return conf_fail(ce, CNI_ERR_ENV, "CNI_NETNS: %s", nsg_err_reason(&e));
	return gateway_keys(c->root, s, ce);
}

int cni_conf_parse(const char *text, size_t len, enum cni_cmd cmd, const struct cni_env *env,
		   struct cni_conf *c, struct cni_error *ce)
{
	struct nsg_err e = { 0 };
	int r;

	*c = (struct cni_conf){ .cmd = cmd };
	spec_init(&c->spec);
	r = jv_parse(text, len, &c->root, &e);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return conf_fail(ce, CNI_ERR_DECODE, "network configuration: %s: %s", e.what,
				 nsg_err_reason(&e));
	if ((r = conf_header(c->root, c, ce)) < 0 || (r = keys_known(c->root, ce)) < 0)
		return r;
	if (cmd == CNI_GC)
		return valid_parse(c->root, c, ce);
	if (cmd != CNI_ADD && cmd != CNI_DEL && cmd != CNI_CHECK)
		return 0;
	if (member(c->root, "prevResult", JV_OBJECT, &c->prev, ce) < 0)
		return -EINVAL;
	if ((r = spec_fill(c, env, ce)) < 0 || (r = dns_parse(c->root, c, ce)) < 0)
		return r;
	return ports_parse(c->root, c, ce);
}
