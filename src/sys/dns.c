/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nsgate/dns.h"
#include "nsgate/fileio.h"
#include "nsgate/netns.h"

/* What slurp reads of a resolver file. */
#define RESOLV_MAX 65535

struct servers {
	struct ip_addr addr[GW_DNS_MAX];
	unsigned n;
	bool had_loopback;
};

static void add_server(struct servers *s, const struct ip_addr *a)
{
	for (unsigned i = 0; i < s->n; i++)
		if (ip_addr_eq(&s->addr[i], a))
			return;
	if (s->n < GW_DNS_MAX)
		s->addr[s->n++] = *a;
}

/* Collect the IPv4 nameservers of a resolv.conf text; the namespace has no
 * IPv6 route, so IPv6 servers are left out. Other lines go to *other when
 * non-NULL (search, domain, options), so the namespace resolves names alike. */
static void parse_resolv(const char *text, struct servers *s, char *other, size_t other_len)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];

		if (len < sizeof(line)) {
			char kw[16], val[256];

			memcpy(line, p, len);
			line[len] = '\0';
			if (sscanf(line, "%15s %255s", kw, val) == 2) {
				struct ip_addr a;

				if (!strcmp(kw, "nameserver")) {
					if (ip_addr_parse(val, AF_INET, &a) == 0) {
						if ((a.v4 >> 24) == 127)
							s->had_loopback = true;
						else
							add_server(s, &a);
					}
				} else if (other && (!strcmp(kw, "search") || !strcmp(kw, "domain") ||
						     !strcmp(kw, "options"))) {
					size_t l = strlen(other);

					/* Whole lines only: a cut one would run into the
					 * nameserver lines written after it, and the
					 * namespace would have none. One that does not
					 * fit is left out. */
					if (l + len + 2 <= other_len)
						snprintf(other + l, other_len - l, "%s\n", line);
				}
			}
		}
		p = nl ? nl + 1 : NULL;
	}
}

int dns_render(const struct gw_spec *spec, const char *host, const char *upstream, char **ret,
	       const char **ret_warn)
{
	struct servers s = { 0 };
	char other[1024] = "";
	char *buf;
	size_t len;

	*ret = NULL;
	*ret_warn = NULL;
	if (spec->dns_mode == GW_DNS_NONE)
		return 0;
	if (spec->dns_mode == GW_DNS_LIST) {
		for (unsigned i = 0; i < spec->n_dns; i++)
			add_server(&s, &spec->dns[i]);
	} else {
		parse_resolv(host ? host : "", &s, other, sizeof(other));
		if (s.had_loopback && upstream) {
			struct servers up = { 0 };

			parse_resolv(upstream, &up, NULL, 0);
			for (unsigned i = 0; i < up.n; i++)
				add_server(&s, &up.addr[i]);
		}
		if (s.n == 0) {
			*ret_warn = s.had_loopback
				? "the host uses a loopback resolver and no upstream servers were found in "
				  DNS_UPSTREAM_RESOLV "; no resolv.conf written (use --dns ADDR)"
				: "no IPv4 nameserver in " DNS_HOST_RESOLV "; no resolv.conf written (use --dns ADDR)";
			return 0;
		}
	}
	len = 64 + strlen(other) + s.n * (IP_ADDR_STRLEN + 12);
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	snprintf(buf, len, "# written by nsgate for gateway %s\n%s", spec->name, other);
	for (unsigned i = 0; i < s.n; i++) {
		char a[IP_ADDR_STRLEN];
		size_t l = strlen(buf);

		snprintf(buf + l, len - l, "nameserver %s\n", ip_addr_str(&s.addr[i], a));
	}
	*ret = buf;
	return 0;
}

/* The text of path, or NULL when it cannot be read (then there is none).
 * Only the first 64 KiB count: a resolver file is a few lines. */
static char *slurp(const char *path)
{
	_cleanup_free_ char *buf = malloc(RESOLV_MAX + 1);
	int r;

	if (!buf)
		return NULL;
	r = file_read_small(path, buf, RESOLV_MAX + 1);
	if (r < 0 && r != -EFBIG)
		return NULL;
	return TAKE_PTR(buf);
}

int dns_render_host(const struct gw_spec *spec, char **ret, const char **ret_warn)
{
	_cleanup_free_ char *host = NULL, *upstream = NULL;

	if (spec->dns_mode == GW_DNS_AUTO) {
		host = slurp(DNS_HOST_RESOLV);
		upstream = slurp(DNS_UPSTREAM_RESOLV);
	}
	return dns_render(spec, host, upstream, ret, ret_warn);
}

int dns_write(const char *name, const char *content, struct nsg_err *e)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r;

	snprintf(dir, sizeof(dir), NETNS_ETC_DIR "/%s", name);
	if (mkdir(NETNS_ETC_DIR, 0755) < 0 && errno != EEXIST)
		return nsg_fail(e, -errno, NULL, "%s", NETNS_ETC_DIR);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return nsg_fail(e, -errno, NULL, "%s", dir);
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	r = file_write_atomic(path, content, strlen(content), 0644, 0);
	if (r < 0) {
		rmdir(dir);
		return nsg_fail(e, r, NULL, "%s", path);
	}
	return 0;
}

int dns_remove(const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r = 0;

	snprintf(dir, sizeof(dir), NETNS_ETC_DIR "/%s", name);
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	if (unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	/* Other files a user put there keep the directory (ENOTEMPTY). */
	rmdir(dir);
	return r;
}

int dns_read_servers(const char *name, struct ip_addr *ret, unsigned max)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	struct servers s = { 0 };

	snprintf(path, sizeof(path), NETNS_ETC_DIR "/%s/resolv.conf", name);
	text = slurp(path);
	if (!text)
		return -ENOENT;
	parse_resolv(text, &s, NULL, 0);
	for (unsigned i = 0; i < s.n && i < max; i++)
		ret[i] = s.addr[i];
	return (int)(s.n < max ? s.n : max);
}

int dns_exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), NETNS_ETC_DIR "/%s/resolv.conf", name);
	return access(path, F_OK) < 0 ? -errno : 0;
}
