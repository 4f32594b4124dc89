/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what nsgate-cni reads from its stdin: the strict
 * JSON reader (src/model/json.c) and the network configuration on top of
 * it (src/cni/conf.c). The input is the bytes as given (NULs included: a
 * runtime's stdin is bytes, not a C string).
 * Properties besides "no crash, no leak, no undefined behaviour": an
 * accepted document has valid UTF-8 strings without NUL, no key twice in an
 * object and no nesting beyond JV_DEPTH_MAX, and stays accepted with
 * whitespace around it but not with a byte of text after it; a refused one
 * says where. A configuration read for ADD names a gateway spec_name_check
 * accepts and spec_name_own_check refuses (the cni- prefix), with ports in
 * range, disjoint and collapsed (no two that continue each other); one read
 * for GC keeps one name per valid attachment, each with the network's
 * prefix.
 */
#include <netinet/in.h>
#include <string.h>

#include "fuzz-common.h"
#include "../../src/cni/cni.h"

static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80 ? 1 : *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc2 ? 2 : 0;

		if (n == 0)
			return false;
		for (size_t i = 1; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return false;
		s += n;
	}
	return true;
}

static void check_tree(const struct jv *v, int depth)
{
	CHECK(depth <= JV_DEPTH_MAX);
	switch (v->type) {
	case JV_STRING:
		CHECK(utf8_ok((const unsigned char *)v->str));
		break;
	case JV_ARRAY:
		for (size_t i = 0; i < v->arr.n; i++)
			check_tree(&v->arr.v[i], depth + 1);
		break;
	case JV_OBJECT:
		for (size_t i = 0; i < v->obj.n; i++) {
			CHECK(utf8_ok((const unsigned char *)v->obj.m[i].key));
			for (size_t j = 0; j < i; j++)
				CHECK(strcmp(v->obj.m[i].key, v->obj.m[j].key));
			check_tree(&v->obj.m[i].value, depth + 1);
		}
		break;
	default:
		break;
	}
}

static void check_json(const char *text, size_t len)
{
	struct nsg_err e = { 0 };
	struct jv *v = NULL, *w = NULL;
	char *more = malloc(len + 2);
	int r = jv_parse(text, len, &v, &e);

	if (!more)
		return;
	if (r < 0) {
		CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
		CHECK(r == -ENOMEM || e.what[0]);
		jv_free(v);
		free(more);
		return;
	}
	check_tree(v, 1);
	jv_free(v);
	/* Whitespace around: the same document; a byte after: refused. */
	more[0] = '\n';
	memcpy(more + 1, text, len);
	more[len + 1] = ' ';
	if (len + 2 <= JV_TEXT_MAX && jv_parse(more, len + 2, &w, &e) != -ENOMEM)
		CHECK(w);
	jv_free(w);
	w = NULL;
	memcpy(more, text, len);
	more[len] = 'x';
	CHECK(jv_parse(more, len + 1, &w, &e) < 0);
	free(more);
}

static void check_conf(const char *text, size_t len, enum cni_cmd cmd)
{
	static const struct cni_env env = {
		.command = "ADD", .container_id = "fz0", .netns = "/run/netns/fz", .ifname = "eth0",
	};
	struct cni_conf c;
	struct cni_error ce = { 0 };
	int r = cni_conf_parse(text, len, cmd, &env, &c, &ce);

	if (r < 0) {
		CHECK(r == -ENOMEM || (ce.code > 0 && ce.msg[0]));
		cni_conf_clear(&c);
		return;
	}
	CHECK(cni_version_supported(c.version));
	if (cmd == CNI_ADD) {
		CHECK(spec_name_check(c.spec.name, NULL) == 0);
		CHECK(spec_name_own_check(c.spec.name, NULL) < 0);
		CHECK(!strcmp(c.spec.ns_ifname, "eth0"));
		for (size_t i = 0; i < c.n_pubs; i++) {
			const struct portmap *p = &c.pubs[i];

			CHECK(p->count >= 1 && p->host_port >= 1 && p->port >= 1);
			CHECK(p->host_port + p->count - 1 <= 65535 && p->port + p->count - 1 <= 65535);
			if (i > 0) {
				const struct portmap *q = &c.pubs[i - 1];

				CHECK(!portmap_overlap(p, q));
				CHECK(!(p->proto == q->proto && ip_addr_eq(&p->host_addr, &q->host_addr) &&
					p->host_port == q->host_port + q->count && p->port == q->port + q->count));
			}
		}
	} else {
		for (size_t i = 0; i < c.n_valid; i++)
			CHECK(!strncmp(c.valid[i].name, c.gc_prefix, strlen(c.gc_prefix)));
	}
	cni_conf_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_json((const char *)data, size);
	check_conf((const char *)data, size, CNI_ADD);
	check_conf((const char *)data, size, CNI_GC);
	return 0;
}
