/* SPDX-License-Identifier: MIT */
/* (stub until the module lands: finds nothing, opens nothing) */
#include <string.h>

#include "nsgate/hostfw.h"

int hostfw_survey(struct nftx *n, struct hostfw_survey *sv)
{
	memset(sv, 0, sizeof(*sv));
	return 0;
}

int hostfw_queue_iptables_open(struct nftx *n, const struct hostfw_survey *sv, bool forward,
			       bool input)
{
	return 0;
}

int hostfw_queue_iptables_close(struct nftx *n, const struct hostfw_survey *sv)
{
	return 0;
}
