/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "cli.h"

/* The one place an error's kind becomes an exit code, for every command. */
static int exit_code_of(enum nsg_kind kind)
{
	switch (kind) {
	case NSG_KIND_INPUT:
	case NSG_KIND_CONFLICT:
		return EXIT_USAGE;
	case NSG_KIND_CMD_NOT_FOUND:
		return EXIT_CMD_NOT_FOUND;
	case NSG_KIND_CMD_CANNOT_RUN:
		return EXIT_CMD_CANNOT_RUN;
	default:
		return EXIT_FAIL;
	}
}

/* Every message nsgate prints goes through here: one line whatever the
 * user gave (a name, a path, a file's line), nothing a terminal obeys. */
void print_error(const char *what, const char *why_fmt, ...)
{
	char why[512], w[NSG_ESCAPED_SIZE(sizeof(((struct nsg_err *)0)->what))];
	char y[NSG_ESCAPED_SIZE(sizeof(why))];
	va_list ap;

	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	nsg_escape(why, y, sizeof(y));
	if (what && what[0])
		fprintf(stderr, "nsgate: %s: %s\n", nsg_escape(what, w, sizeof(w)), y);
	else
		fprintf(stderr, "nsgate: %s\n", y);
}

/* "nsgate: <what>: <why>" on stderr; the only error format nsgate has.
 * An error the core returned without detail is fallback's errno. */
int report(const struct nsg_err *e, int fallback)
{
	struct nsg_err tmp = *e;

	if (!tmp.code) {
		tmp.code = fallback;
		tmp.kind = nsg_kind_of(fallback);
	}
	print_error(e->what, "%s", nsg_err_reason(&tmp));
	return exit_code_of(tmp.kind);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error(cmd, "%s (see 'nsgate %s --help')", msg, cmd);
	return EXIT_USAGE;
}

int option_error(const char *cmd, int c, char *argv[])
{
	/* A long option's error leaves it (as given, maybe "--opt=value")
	 * at optind - 1; an unknown short one is only in optopt. */
	const char *arg = argv[optind - 1];
	int n = (int)strcspn(arg, "=");

	if (c == ':')
		return usage_error(cmd, "option \"%.*s\": needs a value", n, arg);
	if (optopt > 0 && optopt < OPT_LONG)
		return usage_error(cmd, "option \"-%c\": unknown", optopt);
	if (optopt >= OPT_LONG)
		return usage_error(cmd, "option \"%.*s\": takes no value", n, arg);
	return usage_error(cmd, "option \"%.*s\": unknown", n, arg);
}

int options_none(const char *cmd, int argc, char *argv[])
{
	static const struct option none[] = { { 0 } };
	int c = getopt_long(argc, argv, ":", none, NULL);

	return c == -1 ? -1 : option_error(cmd, c, argv);
}

int args_count(const char *cmd, int argc, char *argv[], int n, const char *what)
{
	if (argc - optind == n)
		return -1;
	if (argc - optind < n)
		return usage_error(cmd, "%s: missing", what);
	return usage_error(cmd, "argument \"%s\": unexpected", argv[optind + n]);
}

/* Whether this process's capabilities count in the namespace at path: its
 * user namespace owns it or is above its owner. The kernel says EPERM when
 * the owner is out of reach (above us, as under `unshare -U`). */
static bool ns_in_reach(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	int owner;

	if (fd < 0)
		return true;   /* no /proc: the kernel's own refusal will say */
	owner = ioctl(fd, NS_GET_USERNS);
	if (owner >= 0) {
		close(owner);
		return true;
	}
	return errno != EPERM;
}

/* Changing namespaces, links and nftables needs CAP_NET_ADMIN (and
 * CAP_SYS_ADMIN for mounts); say so plainly instead of a later EPERM. In a
 * user namespace of its own (unshare -Urn) a process has every capability,
 * but not over the host's mount namespace, where /run/nsgate and
 * /run/netns are, nor over a network namespace it does not own: list would
 * see every gateway's link missing, so every command refuses. */
int need_privileges(const char *cmd)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	static const struct { const char *path, *name; } ns[] = {
		{ "/proc/self/ns/net", "network" }, { "/proc/self/ns/mnt", "mount" },
	};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	if (!(data[0].effective & (1u << CAP_NET_ADMIN)) || !(data[0].effective & (1u << CAP_SYS_ADMIN))) {
		print_error(cmd, "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		if (!ns_in_reach(ns[i].path)) {
			print_error(cmd, "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) over this %s "
				    "namespace; those of this user namespace (as under unshare -U) "
				    "do not reach it", ns[i].name);
			return EXIT_FAIL;
		}
	return 0;
}

void warn_firewall_blocks(const char *name, const struct fw_blocks *bs)
{
	for (size_t i = 0; i < bs->n; i++) {
		char what[200], fix[512];

		if (bs->b[i].opened)
			continue;
		firewall_describe(&bs->b[i], what, sizeof(what));
		firewall_fix(&bs->b[i], fix, sizeof(fix));
		if (name)
			print_error("warning", "gateway \"%s\": %s drops its traffic: fix: %s", name,
				    what, fix);
		else
			print_error("warning", "%s drops the gateways' traffic: fix: %s", what, fix);
	}
}
