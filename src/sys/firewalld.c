/* SPDX-License-Identifier: MIT */
/* (stub until the module lands: no bus) */
#include <errno.h>

#include "nsgate/firewalld.h"

int firewalld_open(struct firewalld **ret, struct nsg_err *e)
{
	*ret = NULL;
	return -ENOENT;
}

void firewalld_close(struct firewalld *fw)
{
}

int firewalld_running(struct firewalld *fw, struct nsg_err *e)
{
	return 0;
}

int firewalld_zone_of(struct firewalld *fw, const char *iface, char *zone, size_t len,
		      struct nsg_err *e)
{
	if (len)
		zone[0] = '\0';
	return 0;
}

int firewalld_zone_add(struct firewalld *fw, const char *zone, const char *iface,
		       struct nsg_err *e)
{
	return -ENOTSUP;
}

int firewalld_zone_remove(struct firewalld *fw, const char *zone, const char *iface,
			  struct nsg_err *e)
{
	return 0;
}

int firewalld_subscribe(struct firewalld *fw, struct nsg_err *e)
{
	return -ENOTSUP;
}

int firewalld_fd(struct firewalld *fw)
{
	return -1;
}

int firewalld_process(struct firewalld *fw, bool *changed, struct nsg_err *e)
{
	*changed = false;
	return 0;
}
