/* SPDX-License-Identifier: MIT */
/* The JSON nsgate-cni writes on stdout: results, errors, versions. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cni.h"

static char *to_text(json_object *o)
{
	char *s = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;

	json_object_put(o);
	return s;
}

/* A parsed value (prevResult's) into json-c, to pass it on. */
static json_object *from_value(const struct jv *v)
{
	json_object *o;

	switch (v->type) {
	case JV_BOOL: return json_object_new_boolean(v->b);
	case JV_NUMBER: return v->is_int ? json_object_new_int64(v->i) : json_object_new_double(v->num);
	case JV_STRING: return json_object_new_string(v->str);
	case JV_ARRAY:
		o = json_object_new_array();
		for (size_t i = 0; o && i < v->arr.n; i++)
			json_object_array_add(o, from_value(&v->arr.v[i]));
		return o;
	case JV_OBJECT:
		o = json_object_new_object();
		for (size_t i = 0; o && i < v->obj.n; i++)
			json_object_object_add(o, v->obj.m[i].key, from_value(&v->obj.m[i].value));
		return o;
	default: return NULL;  /* json-c's null */
	}
}

/* prevResult's array key, copied, or a new one. */
static json_object *prev_array(const struct cni_conf *c, const char *key)
{
	const struct jv *v = jv_get(c->prev, key);

	return v && v->type == JV_ARRAY ? from_value(v) : json_object_new_array();
}

static json_object *mac_string(const uint8_t m[6])
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return json_object_new_string(buf);
}

static json_object *iface(const char *name, const uint8_t mac[6], const char *sandbox)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "mac", mac_string(mac));
	if (sandbox)
		json_object_object_add(o, "sandbox", json_object_new_string(sandbox));
	return o;
}

static json_object *addr_string(const struct ip_addr *a)
{
	char buf[IP_ADDR_STRLEN];

	return json_object_new_string(ip_addr_str(a, buf));
}

/* One ips entry: addr/plen via gw, on interface index. */
static json_object *ip_entry(const struct cni_conf *c, const struct ip_addr *addr, unsigned plen,
			     const struct ip_addr *gw, size_t index)
{
	json_object *ip = json_object_new_object();
	char cidr[IP_ADDR_STRLEN + 4], buf[IP_ADDR_STRLEN];

	if (!strcmp(c->version, "0.4.0"))
		json_object_object_add(ip, "version", json_object_new_string(
							   ip_addr_is_v4(addr) ? "4" : "6"));
	snprintf(cidr, sizeof(cidr), "%s/%u", ip_addr_str(addr, buf), plen);
	json_object_object_add(ip, "address", json_object_new_string(cidr));
	json_object_object_add(ip, "gateway", addr_string(gw));
	json_object_object_add(ip, "interface", json_object_new_int64((int64_t)index));
	return ip;
}

static json_object *route_entry(const char *dst, const struct ip_addr *gw)
{
	json_object *rt = json_object_new_object();

	json_object_object_add(rt, "dst", json_object_new_string(dst));
	json_object_object_add(rt, "gw", addr_string(gw));
	return rt;
}

static json_object *dns_entry(const struct cni_conf *c)
{
	const struct jv *pdns = jv_get(c->prev, "dns");
	json_object *d, *nss;

	if (!c->n_dns)
		return pdns && pdns->type == JV_OBJECT ? from_value(pdns) : NULL;
	d = json_object_new_object();
	nss = json_object_new_array();
	for (unsigned i = 0; i < c->n_dns; i++)
		json_object_array_add(nss, addr_string(&c->dns[i]));
	json_object_object_add(d, "nameservers", nss);
	return d;
}

char *cni_result_json(const struct cni_conf *c, const struct cni_added *a)
{
	const struct gw_spec *s = &a->st->spec;
	json_object *root = json_object_new_object(), *ifs = prev_array(c, "interfaces");
	json_object *ips = prev_array(c, "ips"), *routes = prev_array(c, "routes"), *dns;
	struct ip_addr gw = spec_host_addr(&s->subnet), ns = spec_gw_ns_addr(s);
	size_t base = json_object_array_length(ifs);

	json_object_object_add(root, "cniVersion", json_object_new_string(c->version));
	json_object_array_add(ifs, iface(s->host_ifname, a->macs->host, NULL));
	json_object_array_add(ifs, iface(s->ns_ifname, a->macs->ns, a->sandbox));
	json_object_object_add(root, "interfaces", ifs);
	json_object_array_add(ips, ip_entry(c, &ns, s->subnet.plen, &gw, base + 1));
	json_object_array_add(routes, route_entry("0.0.0.0/0", &gw));
	if (spec_has_ipv6(s)) {
		struct ip_addr gw6 = spec_host_addr6(&s->subnet6), ns6 = spec_ns_addr6(&s->subnet6);

		json_object_array_add(ips, ip_entry(c, &ns6, s->subnet6.plen, &gw6, base + 1));
		json_object_array_add(routes, route_entry("::/0", &gw6));
	}
	json_object_object_add(root, "ips", ips);
	json_object_object_add(root, "routes", routes);
	dns = dns_entry(c);
	if (dns)
		json_object_object_add(root, "dns", dns);
	return to_text(root);
}

char *cni_error_json(const char *version, const struct cni_error *ce)
{
	json_object *root = json_object_new_object();

	json_object_object_add(root, "cniVersion",
			       json_object_new_string(version && *version ? version : CNI_VERSION_LATEST));
	json_object_object_add(root, "code", json_object_new_int(ce->code));
	json_object_object_add(root, "msg", json_object_new_string(ce->msg));
	if (ce->details[0])
		json_object_object_add(root, "details", json_object_new_string(ce->details));
	return to_text(root);
}

char *cni_version_json(void)
{
	json_object *root = json_object_new_object(), *v = json_object_new_array();

	json_object_object_add(root, "cniVersion", json_object_new_string(CNI_VERSION_LATEST));
	json_object_array_add(v, json_object_new_string("0.4.0"));
	json_object_array_add(v, json_object_new_string("1.0.0"));
	json_object_array_add(v, json_object_new_string("1.1.0"));
	json_object_object_add(root, "supportedVersions", v);
	return to_text(root);
}
