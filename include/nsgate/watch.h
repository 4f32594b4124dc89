/* SPDX-License-Identifier: MIT */
/* `nsgate watch`: keep gateways whole while the world changes around them. */
#ifndef NSGATE_WATCH_H
#define NSGATE_WATCH_H

#include <stdio.h>

#include "nsgate/common.h"

/* Listen for nftables and link events over netlink and, as they come:
 * restore nsgate's table when someone deletes or flushes it, and gc when a
 * gateway's link disappears (its namespace died). No polling. Returns on
 * SIGINT or SIGTERM (0), or on a failure. log gets one line per action. */
int watch_run(FILE *log, struct nsg_err *e);

#endif
