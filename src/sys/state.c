/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "nsgate/fileio.h"
#include "nsgate/network.h"
#include "nsgate/state.h"

#define STATE_VERSION 1
/* What an nsgate before per-interface forwarding saved of the global switch. */
#define FORWARD_LEGACY_FILE STATE_DIR "/ip_forward.saved"
#define FORWARD_DIR STATE_DIR "/forwarding"

static const char *const netns_kinds[] = {
	[GW_NETNS_OWN] = "own", [GW_NETNS_NAMED] = "named",
	[GW_NETNS_PID] = "pid", [GW_NETNS_PATH] = "path",
};

/* Make dir (0755 whatever the umask: others read the state through list
 * and show) or check the one there. A link or anything but a directory is
 * refused (-ENOTDIR): nsgate's files are written into no directory someone
 * pointed elsewhere. One lstat when it is there, as it nearly always is. */
static int dir_make(const char *dir)
{
	struct stat st;
	int fd, r;

	if (lstat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;
	r = file_dir_open_at(AT_FDCWD, dir, 0755, FILE_DIR_CREATE, &fd, NULL);
	if (r < 0)
		return r;
	close(fd);
	return 0;
}

static int dir_ensure(void)
{
	return dir_make(STATE_DIR);
}

/* The why of a failed dir_make, for a message. */
static const char *dir_why(int r, const char *dir)
{
	return r == -ENOTDIR ? file_not_dir_why(AT_FDCWD, dir) : NULL;
}

int state_dir_ready(struct nsg_err *e)
{
	int r = dir_ensure();

	return r < 0 ? nsg_fail(e, r, dir_why(r, STATE_DIR), "%s", STATE_DIR) : 0;
}

/* LAN mode's keys, only for a LAN gateway: every older file loads as a NAT
 * gateway, as it was. Its subnet line reads 0.0.0.0/0 (none). */
static int state_format_lan(const struct gw_spec *s, char *buf, size_t len)
{
	char a[IP_ADDR_STRLEN], g[IP_ADDR_STRLEN], addr[IP_ADDR_STRLEN + 32] = "";
	char gw[IP_ADDR_STRLEN + 48] = "";

	if (ip_addr_is_set(&s->lan.addr))
		snprintf(addr, sizeof(addr), "lan_address=%s/%u\n", ip_addr_str(&s->lan.addr, a),
			 s->lan.plen);
	if (ip_addr_is_set(&s->lan.gateway))
		snprintf(gw, sizeof(gw), "lan_gateway=%s\n%s", ip_addr_str(&s->lan.gateway, g),
			 s->lan.gateway_given ? "lan_gateway_given=1\n" : "");
	return snprintf(buf, len, "lan=%s\n%s%s", s->lan.iface, addr, gw);
}

int state_format(const struct gw_state *st, char *buf, size_t len)
{
	const struct gw_spec *s = &st->spec;
	char net[IP_PREFIX_STRLEN], dns[GW_DNS_MAX * IP_ADDR_STRLEN + 8] = "";
	char ns_ifname[IF_NAMESIZE + 16] = "", ipv6[16] = "";
	char net6[IP_PREFIX_STRLEN], subnet6[IP_PREFIX_STRLEN + 40] = "";
	char member[GW_NETS_MAX * (GW_NAME_MAX + IP_ADDR_STRLEN + 2 * IP_PREFIX_STRLEN + 32)] = "";
	char ma[IP_ADDR_STRLEN], netnsid[32] = "";
	int n;

	/* One key a line: a newline inside a value would forge keys. */
	if (strpbrk(s->netns_arg, "\n\r") || strpbrk(s->netns_path, "\n\r") ||
	    strpbrk(s->uplink, "\n\r") || strpbrk(s->host_ifname, "\n\r") ||
	    spec_ifname_check(s->ns_ifname, NULL) < 0)
		return -EINVAL;
	/* Written only when it is not the default: files stay as they were
	 * before the name could be chosen, and those load as the default. */
	if (strcmp(s->ns_ifname, GW_NS_IFNAME_DEFAULT))
		snprintf(ns_ifname, sizeof(ns_ifname), "ns_ifname=%s\n", s->ns_ifname);
	/* IPv6 keys only when not the default: older files load as an
	 * IPv4-only gateway asked with --ipv6 auto. */
	if (s->ipv6 != GW_IPV6_AUTO)
		snprintf(ipv6, sizeof(ipv6), "ipv6=%s\n", s->ipv6 == GW_IPV6_ON ? "on" : "off");
	if (spec_has_ipv6(s))
		snprintf(subnet6, sizeof(subnet6), "subnet6=%s\n%s", ip_prefix_str(&s->subnet6, net6),
			 s->subnet6_given ? "subnet6_given=1\n" : "");
	/* A network member's keys only for members: older files load as plain gateways. */
	if (s->network[0])
		snprintf(member, sizeof(member), "network=%s\nnet_addr=%s\n", s->network,
			 ip_addr_str(&s->net_addr, ma));
	/* Its further networks, in order: "net_more=NET ADDR SUBNET [SUBNET6]". */
	for (unsigned i = 0; s->network[0] && i < s->n_nets_more; i++) {
		const struct gw_net_more *m = &s->nets_more[i];
		size_t l = strlen(member);

		snprintf(member + l, sizeof(member) - l, "net_more=%s %s %s%s%s\n", m->name,
			 ip_addr_str(&m->addr, ma), ip_prefix_str(&m->subnet, net),
			 m->subnet6.addr.family == AF_INET6 ? " " : "",
			 m->subnet6.addr.family == AF_INET6 ? ip_prefix_str(&m->subnet6, net6) : "");
	}
	/* Only when known: older files load as not known. */
	if (st->netnsid_known)
		snprintf(netnsid, sizeof(netnsid), "netnsid=%d\n", st->netnsid);
	if (s->dns_mode == GW_DNS_AUTO)
		snprintf(dns, sizeof(dns), "auto");
	else if (s->dns_mode == GW_DNS_NONE)
		snprintf(dns, sizeof(dns), "none");
	for (unsigned i = 0; s->dns_mode == GW_DNS_LIST && i < s->n_dns; i++) {
		char a[IP_ADDR_STRLEN];
		size_t l = strlen(dns);
		snprintf(dns + l, sizeof(dns) - l, "%s%s", i ? "," : "", ip_addr_str(&s->dns[i], a));
	}
	n = snprintf(buf, len,
		     "version=%d\nname=%s\nhost_ifname=%s\nnetns_kind=%s\nnetns_arg=%s\n"
		     "netns_path=%s\nnetns_created=%d\nnetns_ino=%" PRIu64 "\nsubnet=%s\n"
		     "subnet_given=%d\nuplink=%s\ndns=%s\n%s%s%s%s%s%s%s%s%s",
		     STATE_VERSION, s->name, s->host_ifname, netns_kinds[s->netns_kind], s->netns_arg,
		     s->netns_path, st->netns_created, st->netns_ino, ip_prefix_str(&s->subnet, net),
		     s->subnet_given, s->uplink, dns, ns_ifname,
		     /* Only when set, like ns_ifname: older files load as "off". */
		     s->no_host ? "no_host=1\n" : "",
		     s->firewall == GW_FIREWALL_NONE ? "firewall=none\n" : "", st->lo_set_up ? "lo_set_up=1\n" : "",
		     ipv6, subnet6, member, st->creating ? "creating=1\n" : "", netnsid);
	if (n >= 0 && (size_t)n < len && spec_is_lan(s))
		n += state_format_lan(s, buf + n, len - n);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : n;
}

static int copy_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -EBADMSG;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* A further network: "NET ADDR SUBNET [SUBNET6]" (state_format); its names
 * derived. */
static int parse_net_more(struct gw_spec *s, const char *v)
{
	char name[GW_NAME_MAX + 1], addr[IP_ADDR_STRLEN], subnet[IP_PREFIX_STRLEN];
	char subnet6[IP_PREFIX_STRLEN] = "";
	struct gw_net_more *m;
	int n = sscanf(v, "%15s %45s %49s %49s", name, addr, subnet, subnet6);

	if (s->n_nets_more >= GW_NETS_MAX - 1 || n < 3)
		return -EBADMSG;
	m = &s->nets_more[s->n_nets_more];
	memset(&m->subnet6, 0, sizeof(m->subnet6));
	if (!spec_name_known(name) || ip_addr_parse(addr, AF_INET, &m->addr) < 0 ||
	    ip_prefix_parse(subnet, AF_INET, &m->subnet) < 0 ||
	    (n == 4 && (ip_prefix_parse(subnet6, AF_INET6, &m->subnet6) < 0 ||
			m->subnet6.plen != GW_SUBNET6_PLEN)))
		return -EBADMSG;
	snprintf(m->name, sizeof(m->name), "%s", name);
	spec_net_more_names(s, s->n_nets_more);
	s->n_nets_more++;
	return 0;
}

static int parse_bool(const char *v, bool *ret)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return -EBADMSG;
	*ret = v[0] == '1';
	return 0;
}

/* lan, lan_address, lan_gateway, lan_gateway_given, as the parsers of
 * --lan, --address and --gateway take them. */
static int parse_lan_kv(struct gw_spec *s, const char *k, const char *v)
{
	struct gw_spec tmp = *s;
	int r = -EBADMSG;

	if (!strcmp(k, "lan"))
		r = spec_lan_parse(v, &tmp, NULL);
	else if (!strcmp(k, "lan_address"))
		r = spec_lan_address_parse(v, &tmp, NULL);
	else if (!strcmp(k, "lan_gateway"))
		r = spec_lan_gateway_parse(v, &tmp, NULL);
	else if (!strcmp(k, "lan_gateway_given"))
		return parse_bool(v, &s->lan.gateway_given);
	else
		return 0;   /* a newer nsgate's key */
	if (r < 0)
		return -EBADMSG;
	/* The spec's subnet stays the file's (its subnet line); a parsed
	 * gateway is not "given" until that key says so. */
	tmp.subnet = s->subnet;
	tmp.lan.gateway_given = s->lan.gateway_given;
	*s = tmp;
	return 0;
}

static int parse_kv(struct gw_state *st, const char *k, const char *v, unsigned *seen)
{
	struct gw_spec *s = &st->spec;
	unsigned long ul;
	int r = 0;

	if (!strcmp(k, "version")) {
		r = spec_parse_uint(v, 1000, &ul) < 0 || ul != STATE_VERSION ? -EBADMSG : 0;
		*seen |= 1;
	} else if (!strcmp(k, "name")) {
		r = !spec_name_known(v) ? -EBADMSG : copy_str(s->name, sizeof(s->name), v);
		*seen |= 2;
	} else if (!strcmp(k, "host_ifname")) {
		r = copy_str(s->host_ifname, sizeof(s->host_ifname), v);
		*seen |= 4;
	} else if (!strcmp(k, "netns_kind")) {
		r = -EBADMSG;
		for (size_t i = 0; i < ARRAY_SIZE(netns_kinds); i++)
			if (!strcmp(v, netns_kinds[i])) {
				s->netns_kind = i;
				r = 0;
			}
	} else if (!strcmp(k, "netns_arg")) {
		r = copy_str(s->netns_arg, sizeof(s->netns_arg), v);
	} else if (!strcmp(k, "netns_path")) {
		r = copy_str(s->netns_path, sizeof(s->netns_path), v);
	} else if (!strcmp(k, "netns_created")) {
		r = parse_bool(v, &st->netns_created);
	} else if (!strcmp(k, "netnsid")) {
		unsigned long id;

		r = spec_parse_uint(v, INT32_MAX, &id) < 0 ? -EBADMSG : 0;
		st->netnsid = (int)id;
		st->netnsid_known = r == 0;
	} else if (!strcmp(k, "netns_ino")) {
		char *end;
		/* strtoull alone would take " 5", "+5" and "-1". */
		if (v[0] < '0' || v[0] > '9')
			return -EBADMSG;
		errno = 0;
		st->netns_ino = strtoull(v, &end, 10);
		r = errno || *end ? -EBADMSG : 0;
	} else if (!strcmp(k, "subnet")) {
		r = ip_prefix_parse(v, AF_INET, &s->subnet) < 0 ? -EBADMSG : 0;
		*seen |= 8;
	} else if (!strcmp(k, "subnet_given")) {
		r = parse_bool(v, &s->subnet_given);
	} else if (!strcmp(k, "subnet6")) {
		r = ip_prefix_parse(v, AF_INET6, &s->subnet6) < 0 || s->subnet6.plen != GW_SUBNET6_PLEN
			    ? -EBADMSG : 0;
	} else if (!strcmp(k, "subnet6_given")) {
		r = parse_bool(v, &s->subnet6_given);
	} else if (!strcmp(k, "ipv6")) {
		r = spec_ipv6_parse(v, s, NULL) < 0 ? -EBADMSG : 0;
	} else if (!strcmp(k, "uplink")) {
		r = copy_str(s->uplink, sizeof(s->uplink), v);
	} else if (!strcmp(k, "ns_ifname")) {
		r = spec_ifname_check(v, NULL) < 0 ? -EBADMSG
						   : copy_str(s->ns_ifname, sizeof(s->ns_ifname), v);
	} else if (!strcmp(k, "dns")) {
		r = spec_dns_parse(v, s, NULL) < 0 ? -EBADMSG : 0;
	} else if (!strcmp(k, "no_host")) {
		r = parse_bool(v, &s->no_host);
	} else if (!strcmp(k, "firewall")) {
		r = spec_firewall_parse(v, s, NULL) < 0 ? -EBADMSG : 0;
	} else if (!strcmp(k, "lo_set_up")) {
		r = parse_bool(v, &st->lo_set_up);
	} else if (!strcmp(k, "creating")) {
		r = parse_bool(v, &st->creating);
	} else if (!strncmp(k, "lan", 3)) {
		r = parse_lan_kv(s, k, v);
	} else if (!strcmp(k, "network")) {
		r = !spec_name_known(v) ? -EBADMSG : copy_str(s->network, sizeof(s->network), v);
		if (r == 0)
			net_bridge_ifname(s->network, s->net_bridge);
	} else if (!strcmp(k, "net_more")) {
		r = parse_net_more(s, v);
	} else if (!strcmp(k, "net_addr")) {
		r = ip_addr_parse(v, AF_INET, &s->net_addr) < 0 ? -EBADMSG : 0;
	}
	/* Unknown keys are ignored: a newer nsgate may add some. */
	return r;
}

int state_parse(const char *text, struct gw_state *ret)
{
	struct gw_state st = { 0 };
	unsigned seen = 0;
	const char *p = text;

	/* Files without the key were written with the default (or before it
	 * could be chosen). */
	snprintf(st.spec.ns_ifname, sizeof(st.spec.ns_ifname), "%s", GW_NS_IFNAME_DEFAULT);
	while (*p) {
		const char *nl = strchr(p, '\n'), *eq;
		char k[32], v[PATH_MAX];
		size_t kl, vl;
		int r;

		if (!nl)
			return -EBADMSG;   /* a truncated file ends mid-line */
		eq = memchr(p, '=', nl - p);
		if (!eq)
			return -EBADMSG;
		kl = eq - p;
		vl = nl - eq - 1;
		if (kl == 0 || kl >= sizeof(k) || vl >= sizeof(v))
			return -EBADMSG;
		memcpy(k, p, kl);
		k[kl] = '\0';
		memcpy(v, eq + 1, vl);
		v[vl] = '\0';
		r = parse_kv(&st, k, v, &seen);
		if (r < 0)
			return r;
		p = nl + 1;
	}
	if (seen != 15)
		return -EBADMSG;
	/* A member has its address on the network; a LAN gateway is on no
	 * network. Anything else was not written by nsgate. */
	if (st.spec.network[0] && (!ip_addr_is_v4(&st.spec.net_addr) || spec_is_lan(&st.spec)))
		return -EBADMSG;
	*ret = st;
	return 0;
}

static void state_path(const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, STATE_DIR "/%s.state", name);
}

int state_save(const struct gw_state *st, struct nsg_err *e)
{
	char path[PATH_MAX], buf[3 * PATH_MAX + 512];
	int n, r;

	r = dir_ensure();
	if (r < 0)
		return nsg_fail(e, r, NULL, "%s", STATE_DIR);
	n = state_format(st, buf, sizeof(buf));
	if (n < 0)
		return nsg_fail(e, n, NULL, "state of \"%s\"", st->spec.name);
	state_path(st->spec.name, path);
	r = file_write_atomic(path, buf, n, 0644, 0);
	return r < 0 ? nsg_fail(e, r, NULL, "%s", path) : 0;
}

int state_load(const char *name, struct gw_state *ret)
{
	char path[PATH_MAX], buf[3 * PATH_MAX + 512];
	int r;

	state_path(name, path);
	r = file_read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	if (strlen(buf) != (size_t)r)
		return -EBADMSG;  /* NUL bytes: not ours */
	r = state_parse(buf, ret);
	if (r == 0 && strcmp(ret->spec.name, name))
		return -EBADMSG;
	return r;
}

int state_remove(const char *name)
{
	char path[PATH_MAX];

	state_path(name, path);
	return unlink(path) < 0 ? -errno : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool gw_name_ok(const char *name)
{
	return spec_name_known(name);
}

/* The files NAME.suffix of dir whose NAME valid() accepts, sorted. */
static int names_in(const char *dir, const char *suffix, bool (*valid)(const char *),
		    char (**ret)[GW_NAME_MAX + 1])
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*ret = NULL;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		size_t sl = strlen(suffix);

		if (l <= sl || strcmp(de->d_name + l - sl, suffix) || l - sl > GW_NAME_MAX)
			continue;
		if (GROW(names, cap, n + 1) < 0) {
			free(names);
			closedir(d);
			return -ENOMEM;
		}
		memcpy(names[n], de->d_name, l - sl);
		names[n][l - sl] = '\0';
		if (valid(names[n]))
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	*ret = names;
	return (int)n;
}

static void ports_path(const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, STATE_DIR "/%s.ports", name);
}

int state_ports_save(const char *name, const struct portmap *p, size_t n)
{
	char path[PATH_MAX];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	ports_path(name, path);
	if (n == 0)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	r = dir_ensure();
	if (r < 0)
		return r;
	buf = malloc(n * PORTMAP_STRLEN + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char spec[PORTMAP_STRLEN];

		len += sprintf(buf + len, "%s\n", portmap_str(&p[i], spec));
	}
	return file_write_atomic(path, buf, len, 0644, 0);
}

int state_ports_load(const char *name, struct portmap **ret, size_t *n_ret)
{
	char path[PATH_MAX];
	_cleanup_free_ char *buf = NULL;
	struct portmap *v = NULL;
	size_t n = 0, vcap = 0;
	int r;

	*ret = NULL;
	*n_ret = 0;
	ports_path(name, path);
	/* No cap: one line a SPEC, and a gateway may publish any number. */
	r = file_read_all(path, SIZE_MAX, &buf, NULL);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl) {
			free(v);
			return -EBADMSG;   /* truncated */
		}
		*nl = '\0';
		if (GROW(v, vcap, n + 1) < 0) {
			free(v);
			return -ENOMEM;
		}
		if (portmap_parse(line, &v[n], NULL) < 0) {
			free(v);
			return -EBADMSG;
		}
		n++;
	}
	*ret = v;
	*n_ret = n;
	return 0;
}

int state_ports_remove(const char *name)
{
	char path[PATH_MAX];

	ports_path(name, path);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int state_names(char (**ret)[GW_NAME_MAX + 1])
{
	return names_in(STATE_DIR, ".state", gw_name_ok, ret);
}

/* Whether a state file of a gateway but name is there; nat_only: of a NAT
 * gateway (one whose file does not load counts, whatever it is). */
static bool other_exists(const char *name, bool nat_only)
{
	size_t nl = strlen(name);
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(STATE_DIR);

	if (!d)
		return errno != ENOENT;  /* when unsure, keep what is shared */
	while (!found && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char other[GW_NAME_MAX + 1];
		struct gw_state st;

		if (l <= 6 || strcmp(de->d_name + l - 6, ".state") ||
		    (l - 6 == nl && !strncmp(de->d_name, name, nl)))
			continue;
		found = true;
		if (!nat_only || l - 6 > GW_NAME_MAX)
			continue;
		memcpy(other, de->d_name, l - 6);
		other[l - 6] = '\0';
		found = state_load(other, &st) < 0 || !spec_is_lan(&st.spec);
	}
	closedir(d);
	return found;
}

bool state_other_exists(const char *name)
{
	return other_exists(name, false);
}

bool state_other_nat_exists(const char *name)
{
	return other_exists(name, true);
}

/* Run marks have a directory of their own: every up looks for dead runs,
 * and should not read a thousand gateways' files to find none. */
#define RUN_DIR STATE_DIR "/runs"

int state_run_names(char (**ret)[GW_NAME_MAX + 1])
{
	return names_in(RUN_DIR, ".run", gw_name_ok, ret);
}

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
static int proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024], *p;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = file_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	/* comm may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", ret) != 1)
		return -EBADMSG;
	return 0;
}

static void run_path(const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, RUN_DIR "/%s.run", name);
}

int state_run_mark(const char *name, pid_t pid)
{
	char path[PATH_MAX], buf[64];
	unsigned long long start;
	int r = proc_start_time(pid, &start);

	if (r < 0)
		return r;
	r = dir_ensure();
	if (r < 0)
		return r;
	r = dir_make(RUN_DIR);
	if (r < 0)
		return r;
	run_path(name, path);
	snprintf(buf, sizeof(buf), "%d %llu\n", (int)pid, start);
	return file_write_atomic(path, buf, strlen(buf), 0644, 0);
}

int state_run_alive(const char *name)
{
	char path[PATH_MAX], buf[64];
	unsigned long long start, now;
	int pid, r;

	run_path(name, path);
	r = file_read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (sscanf(buf, "%d %llu", &pid, &start) != 2 || pid <= 0)
		return 0;  /* damaged: nobody can be shown to own it */
	r = proc_start_time(pid, &now);
	return r == 0 && now == start;
}

int state_run_clear(const char *name)
{
	char path[PATH_MAX];

	run_path(name, path);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

#define HINT_FILE STATE_DIR "/next-subnet"

int state_hint_get(struct ip_addr *ret)
{
	char buf[32];
	int r = file_read_small(HINT_FILE, buf, sizeof(buf));

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return ip_addr_parse(buf, AF_INET, ret);
}

int state_hint_set(const struct ip_addr *addr)
{
	char buf[IP_ADDR_STRLEN + 1];
	int r;

	if (!ip_addr_is_v4(addr))
		return -EAFNOSUPPORT;
	r = dir_ensure();
	if (r < 0)
		return r;
	ip_addr_str(addr, buf);
	strcat(buf, "\n");
	return file_write_atomic(HINT_FILE, buf, strlen(buf), 0644, 0);
}

int state_hint_clear(void)
{
	return unlink(HINT_FILE) < 0 && errno != ENOENT ? -errno : 0;
}


/* A name the kernel could give an interface (dev_valid_name): also safe as
 * a file name in FORWARD_DIR. */
static bool ifname_ok(const char *name)
{
	size_t l = strlen(name);

	if (l == 0 || l > GW_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < l; i++)
		if (name[i] == '/' || name[i] == ':' || isspace((unsigned char)name[i]))
			return false;
	return true;
}

/* IPv4's saved values end in ".saved", IPv6's in ".saved6". */
static int forward_path(const char *ifname, const char *suffix, char path[PATH_MAX])
{
	if (!ifname_ok(ifname))
		return -EINVAL;
	snprintf(path, PATH_MAX, FORWARD_DIR "/%s%s", ifname, suffix);
	return 0;
}

static int forward_save(const char *ifname, const char *suffix, const char *text)
{
	char path[PATH_MAX], buf[160];
	int r = forward_path(ifname, suffix, path);

	if (r == 0)
		r = dir_ensure();
	if (r < 0)
		return r;
	r = dir_make(FORWARD_DIR);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%s\n", text);
	return file_write_atomic(path, buf, strlen(buf), 0644, 0);
}

static int forward_get(const char *ifname, const char *suffix, char *buf, size_t len)
{
	char path[PATH_MAX];
	int r = forward_path(ifname, suffix, path);

	if (r == 0)
		r = file_read_small(path, buf, len);
	if (r < 0)
		return r;
	while (r > 0 && buf[r - 1] == '\n')
		buf[--r] = '\0';
	return 0;
}

static int forward_forget(const char *ifname, const char *suffix)
{
	char path[PATH_MAX];
	int r = forward_path(ifname, suffix, path);

	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* IPv4's saved value in IFNAME.saved, IPv6's line in IFNAME.saved6. */
static const char *forward_suffix(int family)
{
	return family == AF_INET6 ? ".saved6" : ".saved";
}

int state_forward_save(int family, const char *ifname, const char *text)
{
	return forward_save(ifname, forward_suffix(family), text);
}

int state_forward_get(int family, const char *ifname, char *buf, size_t len)
{
	return forward_get(ifname, forward_suffix(family), buf, len);
}

int state_forward_forget(int family, const char *ifname)
{
	return forward_forget(ifname, forward_suffix(family));
}

int state_forward_names(int family, char (**ret)[GW_NAME_MAX + 1])
{
	return names_in(FORWARD_DIR, forward_suffix(family), ifname_ok, ret);
}

#define MACHINE_ID_FILE "/etc/machine-id"
#define ULA_SEED_FILE STATE_DIR "/ula-seed"

static int hex_seed(const char *text, uint8_t seed[16])
{
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)text[2 * i]) || !isxdigit((unsigned char)text[2 * i + 1]) ||
		    sscanf(text + 2 * i, "%2x", &v) != 1)
			return -EBADMSG;
		seed[i] = (uint8_t)v;
	}
	return 0;
}

int state_ula_seed(uint8_t seed[16])
{
	char text[64];
	int r;

	if (file_read_small(MACHINE_ID_FILE, text, sizeof(text)) >= 32 && hex_seed(text, seed) == 0)
		return 0;
	/* No machine id: a random seed, made once and kept beside the
	 * gateways (so every gateway of this boot shares the /48). */
	if (file_read_small(ULA_SEED_FILE, text, sizeof(text)) >= 32 && hex_seed(text, seed) == 0)
		return 0;
	if (getrandom(seed, 16, 0) != 16)
		return -errno;
	for (int i = 0; i < 16; i++)
		snprintf(text + 2 * i, 3, "%02x", seed[i]);
	text[32] = '\n';
	r = dir_ensure();
	return r < 0 ? r : file_write_atomic(ULA_SEED_FILE, text, 33, 0644, 0);
}

int state_forward_legacy_drop(void)
{
	if (unlink(FORWARD_LEGACY_FILE) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/* One directory of tmp_sweep: name of dirfd, never through a link; a
 * missing one holds nothing. Adds the count to *n, keeps the first error. */
static void sweep_dir(int dirfd, const char *name, int *n, int *err)
{
	_cleanup_close_ int fd = -1;
	int r = file_dir_open_at(dirfd, name, 0, 0, &fd, NULL);

	if (r == 0)
		r = file_tmp_sweep_at(fd);
	if (r > 0)
		*n += r;
	else if (r < 0 && r != -ENOENT && *err == 0)
		*err = r;
}

int state_tmp_sweep(void)
{
	_cleanup_close_ int fd = -1;
	int n = 0, err = 0;
	int r = file_dir_open_at(AT_FDCWD, STATE_DIR, 0, 0, &fd, NULL);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	sweep_dir(fd, ".", &n, &err);
	/* Relative to the state directory just opened: no path is looked up
	 * again, so none can be swapped in between. */
	sweep_dir(fd, "runs", &n, &err);
	sweep_dir(fd, "forwarding", &n, &err);
	sweep_dir(fd, "networks", &n, &err);
	return err < 0 ? err : n;
}

#define FIREWALLD_FILE STATE_DIR "/firewalld"

int state_firewalld_save(const char *zone, const char *iface)
{
	char buf[160];
	int n, r;

	if (!ifname_ok(iface) || !*zone || strpbrk(zone, " \n/"))
		return -EINVAL;
	r = dir_ensure();
	if (r < 0)
		return r;
	n = snprintf(buf, sizeof(buf), "%s %s\n", zone, iface);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return file_write_atomic(FIREWALLD_FILE, buf, (size_t)n, 0644, 0);
}

int state_firewalld_get(char *zone, size_t zone_len, char *iface, size_t iface_len)
{
	char buf[160], *sp;
	int r = file_read_small(FIREWALLD_FILE, buf, sizeof(buf));

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	sp = strchr(buf, ' ');
	if (!sp || sp == buf || !ifname_ok(sp + 1) || (size_t)(sp - buf) >= zone_len ||
	    strlen(sp + 1) >= iface_len)
		return -EBADMSG;
	*sp = '\0';
	snprintf(zone, zone_len, "%s", buf);
	snprintf(iface, iface_len, "%s", sp + 1);
	return 0;
}

int state_firewalld_forget(void)
{
	return unlink(FIREWALLD_FILE) < 0 && errno != ENOENT ? -errno : 0;
}

/* ------------------------------------------------------------- networks */

#define NET_DIR STATE_DIR "/networks"

static void net_path(const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, NET_DIR "/%s.net", name);
}

int state_net_save(const struct net_state *n, struct nsg_err *e)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	int r = dir_ensure();

	if (r == 0)
		r = dir_make(NET_DIR);
	if (r < 0)
		return nsg_fail(e, r, dir_why(r, NET_DIR), "%s", NET_DIR);
	r = net_state_format(n, &text);
	if (r < 0)
		return nsg_fail(e, r, NULL, "state of network \"%s\"", n->name);
	net_path(n->name, path);
	r = file_write_atomic(path, text, strlen(text), 0644, 0);
	return r < 0 ? nsg_fail(e, r, NULL, "%s", path) : 0;
}

int state_net_load(const char *name, struct net_state *ret)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	net_path(name, path);
	r = file_read_all(path, 1 << 20, &text, &len);
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	if (strlen(text) != len)
		return -EBADMSG;
	r = net_state_parse(text, ret);
	if (r == 0 && strcmp(ret->name, name)) {
		net_state_clear(ret);
		return -EBADMSG;
	}
	return r;
}

void state_net_hosts_path(const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, NET_HOSTS_DIR "/%s" NET_HOSTS_SUFFIX, name);
}

int state_net_hosts_write(const char *name, const char *text, struct nsg_err *e)
{
	_cleanup_close_ int dir = -1;
	char file[GW_NAME_MAX + sizeof(NET_HOSTS_SUFFIX)];
	int r = dir_ensure();

	if (r == 0)
		r = dir_make(NET_DIR);
	if (r == 0)
		r = file_dir_open_at(AT_FDCWD, NET_DIR, 0755, 0, &dir, NULL);
	if (r < 0)
		return nsg_fail(e, r, dir_why(r, NET_DIR), "%s", NET_DIR);
	snprintf(file, sizeof(file), "%s" NET_HOSTS_SUFFIX, name);
	/* 0644: read through the members' links by any user inside. */
	r = file_rewrite_at(dir, file, text, strlen(text), 0644);
	return r < 0 ? nsg_fail(e, r, NULL, NET_DIR "/%s", file) : 0;
}

int state_net_remove(const char *name)
{
	char path[PATH_MAX];

	state_net_hosts_path(name, path);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	net_path(name, path);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int state_net_names(char (**ret)[GW_NAME_MAX + 1])
{
	return names_in(NET_DIR, ".net", gw_name_ok, ret);
}
