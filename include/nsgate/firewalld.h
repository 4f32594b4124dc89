/* SPDX-License-Identifier: MIT */
/*
 * firewalld over D-Bus (src/sys/firewalld.c, sd-bus from libsystemd): the one
 * way firewalld offers other tools to change what it lets through. nsgate
 * changes only its runtime configuration, never the permanent one.
 * The system bus is the one sd-bus finds (DBUS_SYSTEM_BUS_ADDRESS, else
 * /run/dbus/system_bus_socket).
 */
#ifndef NSGATE_FIREWALLD_H
#define NSGATE_FIREWALLD_H

#include <stdbool.h>
#include <stddef.h>

#include "nsgate/common.h"

/* The zone the gateway links go to: its target ACCEPT forwards them. */
#define FIREWALLD_ZONE "trusted"

struct firewalld;

/* Connect to the system bus. -ENOENT or -ECONNREFUSED: there is none. Every
 * call below has a deadline (a firewalld that hangs fails it with -ETIMEDOUT);
 * one to firewalld fails with -EHOSTUNREACH when firewalld is not running or
 * stops before it answers (a restart: firewalld_running said 1 just before). */
int firewalld_open(struct firewalld **ret, struct nsg_err *e);
void firewalld_close(struct firewalld *fw);
/* 1 if firewalld owns its bus name, 0 if not. */
int firewalld_running(struct firewalld *fw, struct nsg_err *e);
/* The zone iface is bound to at runtime ("" for none). */
int firewalld_zone_of(struct firewalld *fw, const char *iface, char *zone, size_t len,
		      struct nsg_err *e);
/* Bind iface to zone, runtime only; an iface already there is not an error. */
int firewalld_zone_add(struct firewalld *fw, const char *zone, const char *iface,
		       struct nsg_err *e);
/* Unbind it; one that is not there is not an error. */
int firewalld_zone_remove(struct firewalld *fw, const char *zone, const char *iface,
			  struct nsg_err *e);

/* For watch: be told of firewalld's Reloaded signal and of its bus name
 * getting a new owner (a restart), both of which drop runtime changes. */
int firewalld_subscribe(struct firewalld *fw, struct nsg_err *e);
/* The descriptor to poll for POLLIN. */
int firewalld_fd(struct firewalld *fw);
/* Handle what arrived; *changed becomes true after a reload or a restart. */
int firewalld_process(struct firewalld *fw, bool *changed, struct nsg_err *e);

#endif
