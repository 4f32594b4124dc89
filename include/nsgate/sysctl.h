/* SPDX-License-Identifier: MIT */
/* Kernel parameters through /proc/sys (what sysctl(8) itself does). */
#ifndef NSGATE_SYSCTL_H
#define NSGATE_SYSCTL_H

#include <stddef.h>

/* The global switch: read, never written (see src/core/forward.c). */
#define SYSCTL_IP_FORWARD "net/ipv4/ip_forward"
/* IPv4 forwarding of what comes in on one interface: a format for its key
 * (an interface name has at most 15 bytes). */
#define SYSCTL_IF_FORWARDING "net/ipv4/conf/%.15s/forwarding"

/* key is relative to /proc/sys, e.g. "net/ipv4/ip_forward". The value is
 * returned without its trailing newline. */
int sysctl_read(const char *key, char *buf, size_t len);
int sysctl_write(const char *key, const char *value);

#endif
