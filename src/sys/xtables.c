/* SPDX-License-Identifier: MIT */
/* (stub until the module lands: finds nothing) */
#include <string.h>

#include "nsgate/xtables.h"

int xtables_survey(struct xtables_survey *sv, struct nsg_err *e)
{
	memset(sv, 0, sizeof(*sv));
	return 0;
}

int xtables_open(bool forward, bool input, struct nsg_err *e)
{
	return 0;
}

int xtables_close(struct nsg_err *e)
{
	return 0;
}
