/* SPDX-License-Identifier: MIT */
/* `nsgate watch`: keep gateways whole while the world changes around them. */
#ifndef NSGATE_WATCH_H
#define NSGATE_WATCH_H

#include "nsgate/common.h"

enum watch_event_type {
	WATCH_LISTENING,   /* subscribed to the events: from now on nothing is missed */
	WATCH_REMOVED,     /* a dead gateway was removed: name and reason */
	WATCH_RESTORED,    /* nsgate's table was put back */
};

struct watch_event {
	enum watch_event_type type;
	const char *name;     /* WATCH_REMOVED: the gateway */
	const char *reason;   /* WATCH_REMOVED: why it counted as dead */
};

/* Listen for nftables and link events over netlink and, as they come:
 * restore nsgate's table when someone deletes or flushes it, and gc when a
 * gateway's link disappears (its namespace died). No polling. Returns on
 * SIGINT or SIGTERM (0), or on a failure. report(ev, userdata) hears of each
 * step as it happens (the event and its strings are valid during the call
 * only); watch itself never prints. */
int watch_run(void (*report)(const struct watch_event *ev, void *userdata), void *userdata,
	      struct nsg_err *e);

#endif
