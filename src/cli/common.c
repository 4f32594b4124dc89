/* SPDX-License-Identifier: MIT */
#include <linux/capability.h>
#include <stdio.h>
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

/* "nsgate: <what>: <why>" on stderr; the only error format nsgate has.
 * An error the core returned without detail is fallback's errno. */
int report(const struct nsg_err *e, int fallback)
{
	struct nsg_err tmp = *e;

	if (!tmp.code) {
		tmp.code = fallback;
		tmp.kind = nsg_kind_of(fallback);
	}
	if (e->what[0])
		fprintf(stderr, "nsgate: %s: %s\n", e->what, nsg_err_reason(&tmp));
	else
		fprintf(stderr, "nsgate: %s\n", nsg_err_reason(&tmp));
	return exit_code_of(tmp.kind);
}

int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "nsgate: %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'nsgate %s --help')\n", cmd);
	return EXIT_USAGE;
}


/* Changing namespaces, links and nftables needs CAP_NET_ADMIN (and
 * CAP_SYS_ADMIN for mounts); say so plainly instead of a later EPERM. */
int need_privileges(const char *cmd)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	if (data[0].effective & (1u << CAP_NET_ADMIN) && data[0].effective & (1u << CAP_SYS_ADMIN))
		return 0;
	fprintf(stderr, "nsgate: %s: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)\n", cmd);
	return EXIT_FAIL;
}
