/* SPDX-License-Identifier: MIT */
/* Kernel parameters through /proc/sys (what sysctl(8) itself does). */
#ifndef NSGATE_SYSCTL_H
#define NSGATE_SYSCTL_H

#include <stddef.h>

#define SYSCTL_IP_FORWARD "net/ipv4/ip_forward"

/* key is relative to /proc/sys, e.g. "net/ipv4/ip_forward". The value is
 * returned without its trailing newline. */
int sysctl_read(const char *key, char *buf, size_t len);
int sysctl_write(const char *key, const char *value);

#endif
