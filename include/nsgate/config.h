/* SPDX-License-Identifier: MIT */
/*
 * The config file of `nsgate apply FILE`: one [NAME] section per gateway,
 * keys that mirror the options of `nsgate up`:
 *
 *     [web]
 *     publish = 8080:80
 *     publish = 127.0.0.1:5432:5432
 *     [db]
 *     netns = /proc/4242/ns/net
 *     subnet = 10.200.9.0/30
 *     uplink = eth0
 *     dns = 192.0.2.53,192.0.2.54
 *
 * Parsed with libinih, each value checked by the same spec_* functions the
 * command line uses. Pure: nothing but reading the file touches the system.
 * The whole file is checked before anything is returned; the first error is
 * reported as e->what "FILE:LINE" and e->why the reason.
 */
#ifndef NSGATE_CONFIG_H
#define NSGATE_CONFIG_H

#include <stddef.h>

#include "nsgate/common.h"
#include "nsgate/portmap.h"
#include "nsgate/spec.h"

/* Largest file config_parse_file reads. */
#define CONFIG_FILE_MAX (16u << 20)

struct config_gw {
	struct gw_spec spec;     /* checked, defaults filled in as `nsgate up NAME` would */
	struct portmap *pubs;    /* malloc'ed, in file order; NULL when n_pubs is 0 */
	size_t n_pubs;
	unsigned line;           /* the line of the [NAME] header, for messages */
	/* The lines of its keys, for the checks apply makes against the system
	 * (0: not given): netns, subnet, uplink, and one a publish (malloc'ed,
	 * parallel to pubs). */
	unsigned netns_line, subnet_line, uplink_line;
	unsigned *pub_lines;
};

/* A "[network NET]" section: a network as `nsgate network create` makes
 * it (keys subnet, isolated, ipv6, subnet6); apply makes it when it is
 * missing. */
struct config_net {
	char name[GW_NAME_MAX + 1];
	struct ip_prefix subnet;
	bool subnet_given;
	bool isolated;
	enum gw_ipv6 ipv6;           /* as --ipv6 (auto by default) */
	struct ip_prefix subnet6;
	bool subnet6_given;          /* implies ipv6 on, as --subnet6 */
	unsigned line;
};

struct config {
	struct config_gw *gw;    /* malloc'ed, in file order; NULL when n is 0 */
	size_t n;
	struct config_net *nets; /* malloc'ed, in file order */
	size_t n_nets;
	char *file;              /* the name its messages use ("FILE:LINE"), malloc'ed */
};

/* Parse and check a config file. 0; -EINVAL for a bad file (e says
 * "FILE:LINE" and why); -errno when it cannot be read; -EFBIG past
 * CONFIG_FILE_MAX; -ENOMEM. On failure *ret is left empty. */
int config_parse_file(const char *path, struct config *ret, struct nsg_err *e);
/* The same for text in memory; name_for_errors stands for the file name. */
int config_parse_string(const char *text, const char *name_for_errors, struct config *ret,
			struct nsg_err *e);
/* Free what a parse returned and empty c. c may be NULL or already empty. */
void config_free(struct config *c);
/* The gateway named name, or NULL. */
const struct config_gw *config_find(const struct config *c, const char *name);

#endif
