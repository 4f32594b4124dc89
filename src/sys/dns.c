/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nsgate/dns.h"
#include "nsgate/fileio.h"
#include "nsgate/netns.h"

/* What slurp reads of a resolver file. */
#define RESOLV_MAX 65535
/* The one file nsgate keeps in /etc/netns/NAME. */
#define RESOLV_NAME "resolv.conf"

struct servers {
	struct ip_addr addr[GW_DNS_MAX];
	unsigned n;
	bool v6;             /* IPv6 servers are kept (a dual-stack namespace) */
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

/* A nameserver line's address. Loopback ones (127/8, ::1, and :: which
 * the kernel sends to ::1) are the host's own resolver: replaced by its
 * upstream servers. Link-local ones (fe80::1%eth0, or without a zone) are
 * on the host's links, not the namespace's, and IPv4-mapped ones travel
 * as IPv4 where the no-host rules would not know them: left out. IPv6
 * ones only when the namespace has an IPv6 route. */
static void take_server(struct servers *s, const char *val)
{
	struct in6_addr in6;
	struct ip_addr a;

	/* Both families parsed: a host resolver on ::1 is one to replace for
	 * an IPv4-only namespace too. */
	if (ip_addr_parse(val, AF_UNSPEC, &a) < 0)
		return;
	if (a.family == AF_INET) {
		if ((a.v4 >> 24) == 127)
			s->had_loopback = true;
		else
			add_server(s, &a);
		return;
	}
	memcpy(&in6, a.v6, sizeof(in6));
	if (IN6_IS_ADDR_LOOPBACK(&in6) || IN6_IS_ADDR_UNSPECIFIED(&in6))
		s->had_loopback = true;
	else if (s->v6 && !IN6_IS_ADDR_LINKLOCAL(&in6) && !IN6_IS_ADDR_V4MAPPED(&in6))
		add_server(s, &a);
}

/* Collect the nameservers of a resolv.conf text (IPv6 ones when s->v6).
 * Other lines go to *other when non-NULL (search, domain, options), so
 * the namespace resolves names alike. */
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
				if (!strcmp(kw, "nameserver")) {
					take_server(s, val);
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

/* The host's servers, its loopback resolver replaced by the upstream
 * ones; *ret_warn says why when none is left. */
static void servers_auto(struct servers *s, const char *host, const char *upstream, char *other,
			 size_t other_len, const char **ret_warn)
{
	parse_resolv(host ? host : "", s, other, other_len);
	if (s->had_loopback && upstream) {
		struct servers up = { .v6 = s->v6 };

		parse_resolv(upstream, &up, NULL, 0);
		for (unsigned i = 0; i < up.n; i++)
			add_server(s, &up.addr[i]);
	}
	if (s->n)
		return;
	if (s->had_loopback)
		*ret_warn = "the host uses a loopback resolver and no upstream servers were found in "
			    DNS_UPSTREAM_RESOLV "; no resolv.conf written (use --dns ADDR)";
	else if (s->v6)
		*ret_warn = "no nameserver in " DNS_HOST_RESOLV " the namespace can reach (link-local "
			    "ones cannot be); no resolv.conf written (use --dns ADDR)";
	else
		*ret_warn = "no IPv4 nameserver in " DNS_HOST_RESOLV "; no resolv.conf written (use --dns ADDR)";
}

int dns_render(const struct gw_spec *spec, const char *host, const char *upstream, char **ret,
	       const char **ret_warn)
{
	struct servers s = { .v6 = spec_has_ipv6(spec) };
	char other[1024] = "";
	char *buf;
	size_t len;

	*ret = NULL;
	*ret_warn = NULL;
	if (spec->dns_mode == GW_DNS_NONE)
		return 0;
	if (spec->dns_mode == GW_DNS_LIST) {
		/* A loopback one is the namespace's own resolver: kept. */
		for (unsigned i = 0; i < spec->n_dns && i < GW_DNS_MAX; i++)
			if (s.v6 || ip_addr_is_v4(&spec->dns[i]))
				add_server(&s, &spec->dns[i]);
		if (s.n == 0)
			*ret_warn = "--dns lists only IPv6 nameservers and the gateway is IPv4 only; "
				    "no resolv.conf written";
	} else {
		servers_auto(&s, host, upstream, other, sizeof(other), ret_warn);
	}
	if (s.n == 0)
		return 0;
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

/* The text of name (a path when follow: the host's resolver files are
 * often links; else a name of dirfd, never through a link), or NULL when
 * it cannot be read (then there is none). Only the first 64 KiB count: a
 * resolver file is a few lines. */
static char *slurp(int dirfd, const char *name, bool follow)
{
	_cleanup_free_ char *buf = malloc(RESOLV_MAX + 1);
	int r;

	if (!buf)
		return NULL;
	r = follow ? file_read_small(name, buf, RESOLV_MAX + 1)
		   : file_read_small_at(dirfd, name, buf, RESOLV_MAX + 1);
	if (r < 0 && r != -EFBIG)
		return NULL;
	return TAKE_PTR(buf);
}

int dns_render_host(const struct gw_spec *spec, char **ret, const char **ret_warn)
{
	_cleanup_free_ char *host = NULL, *upstream = NULL;

	if (spec->dns_mode == GW_DNS_AUTO) {
		host = slurp(AT_FDCWD, DNS_HOST_RESOLV, true);
		upstream = slurp(AT_FDCWD, DNS_UPSTREAM_RESOLV, true);
	}
	return dns_render(spec, host, upstream, ret, ret_warn);
}

/* /etc/netns, never through a link (ip netns or nsgate may have made it). */
static int etc_open(unsigned flags, int *ret_fd)
{
	return file_dir_open_at(AT_FDCWD, NETNS_ETC_DIR, 0755, flags, ret_fd, NULL);
}

/* NAME of etc: a real directory (-ENOTDIR for a link or anything else,
 * so nothing is written or removed where a link points), 0755 when made. */
static int ns_dir_open(int etc, const char *name, unsigned flags, int *ret_fd, bool *ret_created)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return file_dir_open_at(etc, name, 0755, flags, ret_fd, ret_created);
}

/* One of nsgate's files (resolv.conf) in NAME of etc. */
static int etc_file_write_at(int etc, const char *name, const char *file, const char *content,
			     struct nsg_err *e)
{
	_cleanup_close_ int dir = -1;
	bool created = false;
	int r = ns_dir_open(etc, name, FILE_DIR_CREATE, &dir, &created);

	if (r < 0)
		return nsg_fail(e, r, r == -ENOTDIR ? file_not_dir_why(etc, name) : NULL,
				NETNS_ETC_DIR "/%s", name);
	/* 0644 whatever the umask: `run --user` and `ip netns exec` as any
	 * user read it through the bind mount. */
	r = file_write_atomic_at(dir, file, content, strlen(content), 0644, 0);
	if (r < 0) {
		if (created)
			unlinkat(etc, name, AT_REMOVEDIR);
		return nsg_fail(e, r, NULL, NETNS_ETC_DIR "/%s/%s", name, file);
	}
	return 0;
}

int dns_write_at(int etc, const char *name, const char *content, struct nsg_err *e)
{
	return etc_file_write_at(etc, name, RESOLV_NAME, content, e);
}

/*
 * NAME itself goes when nothing is left in it, whoever made it: an empty
 * directory gives `ip netns exec` nothing to bind and holds nothing anyone
 * could lose, and no mark of nsgate's can live there (every file in it is
 * bound over /etc). A user's files keep it (ENOTEMPTY). unlinkat with
 * AT_REMOVEDIR removes no link (ENOTDIR), if one was swapped in meanwhile.
 */
static void ns_dir_drop_if_empty(int etc, const char *name)
{
	unlinkat(etc, name, AT_REMOVEDIR);
}

static int etc_file_remove_at(int etc, const char *name, const char *file)
{
	_cleanup_close_ int dir = -1;
	int r = ns_dir_open(etc, name, 0, &dir, NULL);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (unlinkat(dir, file, 0) < 0 && errno != ENOENT)
		return -errno;
	/* Empty most of the time: only a directory that is not is read, for
	 * a kill's leftover tmp, which would keep it forever. */
	if (unlinkat(etc, name, AT_REMOVEDIR) < 0 && errno == ENOTEMPTY &&
	    file_tmp_sweep_at(dir) > 0)
		ns_dir_drop_if_empty(etc, name);
	return 0;
}

int dns_remove_at(int etc, const char *name)
{
	return etc_file_remove_at(etc, name, RESOLV_NAME);
}

int dns_tmp_sweep_at(int etc, const char *name)
{
	_cleanup_close_ int dir = -1;
	int r = ns_dir_open(etc, name, 0, &dir, NULL);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = file_tmp_sweep_at(dir);
	/* Only a directory that held nsgate's leftover: an empty one of
	 * someone else's, swept by gc, stays. */
	if (r > 0)
		ns_dir_drop_if_empty(etc, name);
	return r;
}

int dns_tmp_sweep_all(void)
{
	_cleanup_close_ int etc = -1;
	struct dirent *de;
	DIR *d;
	int r = etc_open(0, &etc), n = 0;

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	d = fdopendir(dup(etc));
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    dns_tmp_sweep_at(etc, de->d_name) > 0)
			n++;
	closedir(d);
	return n;
}

int dns_read_servers_at(int etc, const char *name, struct ip_addr *ret, unsigned max)
{
	_cleanup_close_ int dir = -1;
	_cleanup_free_ char *text = NULL;
	/* Both families: what the file names is what the namespace uses. */
	struct servers s = { .v6 = true };
	int r = ns_dir_open(etc, name, 0, &dir, NULL);

	if (r < 0)
		return r;
	text = slurp(dir, RESOLV_NAME, false);
	if (!text)
		return -ENOENT;
	parse_resolv(text, &s, NULL, 0);
	for (unsigned i = 0; i < s.n && i < max; i++)
		ret[i] = s.addr[i];
	return (int)(s.n < max ? s.n : max);
}

int dns_exists_at(int etc, const char *name)
{
	_cleanup_close_ int dir = -1;
	struct stat st;
	int r = ns_dir_open(etc, name, 0, &dir, NULL);

	if (r < 0)
		return r;
	return fstatat(dir, RESOLV_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int dns_write(const char *name, const char *content, struct nsg_err *e)
{
	_cleanup_close_ int etc = -1;
	int r = etc_open(FILE_DIR_CREATE, &etc);

	if (r < 0)
		return nsg_fail(e, r, r == -ENOTDIR ? file_not_dir_why(AT_FDCWD, NETNS_ETC_DIR) : NULL,
				"%s", NETNS_ETC_DIR);
	return dns_write_at(etc, name, content, e);
}

/* The others find nothing to do without /etc/netns: ENOENT is theirs to
 * read as "none" (missing is what they were asked to make so). */
int dns_remove(const char *name)
{
	_cleanup_close_ int etc = -1;
	int r = etc_open(0, &etc);

	return r < 0 ? (r == -ENOENT ? 0 : r) : dns_remove_at(etc, name);
}

int dns_tmp_sweep(const char *name)
{
	_cleanup_close_ int etc = -1;
	int r = etc_open(0, &etc);

	return r < 0 ? (r == -ENOENT ? 0 : r) : dns_tmp_sweep_at(etc, name);
}

int dns_etc_open(int *ret_fd)
{
	*ret_fd = -1;
	return etc_open(0, ret_fd);
}

int dns_read_servers(const char *name, struct ip_addr *ret, unsigned max)
{
	_cleanup_close_ int etc = -1;
	int r = etc_open(0, &etc);

	return r < 0 ? r : dns_read_servers_at(etc, name, ret, max);
}

int dns_exists(const char *name)
{
	_cleanup_close_ int etc = -1;
	int r = etc_open(0, &etc);

	return r < 0 ? r : dns_exists_at(etc, name);
}

/* /etc/netns/NAME/hosts as what put() makes of it in NAME's directory
 * (made when missing, removed again when put fails and it was made). */
static int hosts_put(const char *name, int (*put)(int dir, const void *arg), const void *arg,
		     struct nsg_err *e)
{
	_cleanup_close_ int etc = -1, dir = -1;
	bool created = false;
	int r = etc_open(FILE_DIR_CREATE, &etc);

	if (r < 0)
		return nsg_fail(e, r, r == -ENOTDIR ? file_not_dir_why(AT_FDCWD, NETNS_ETC_DIR) : NULL,
				"%s", NETNS_ETC_DIR);
	r = ns_dir_open(etc, name, FILE_DIR_CREATE, &dir, &created);
	if (r < 0)
		return nsg_fail(e, r, r == -ENOTDIR ? file_not_dir_why(etc, name) : NULL,
				NETNS_ETC_DIR "/%s", name);
	r = put(dir, arg);
	if (r < 0) {
		if (created)
			unlinkat(etc, name, AT_REMOVEDIR);
		return nsg_fail(e, r, NULL, NETNS_ETC_DIR "/%s/" HOSTS_NAME, name);
	}
	return 0;
}

static int put_link(int dir, const void *target)
{
	return file_symlink_atomic_at(dir, HOSTS_NAME, target);
}

static int put_text(int dir, const void *text)
{
	return file_rewrite_at(dir, HOSTS_NAME, text, strlen(text), 0644);
}

/* /etc/netns/NAME/hosts as a link to target (a network's hosts file of
 * nsgate's own: one file for every member, so a member's up and down
 * rewrite one file whatever the number of members). */
int dns_hosts_link(const char *name, const char *target, struct nsg_err *e)
{
	return hosts_put(name, put_link, target, e);
}

int dns_hosts_write(const char *name, const char *text, struct nsg_err *e)
{
	return hosts_put(name, put_text, text, e);
}

int dns_hosts_remove(const char *name)
{
	_cleanup_close_ int etc = -1;
	int r = etc_open(0, &etc);

	return r < 0 ? (r == -ENOENT ? 0 : r) : etc_file_remove_at(etc, name, HOSTS_NAME);
}
