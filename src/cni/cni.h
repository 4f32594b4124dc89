/* SPDX-License-Identifier: MIT */
/*
 * nsgate-cni, the CNI front end over the core (docs/design.md, "CNI
 * plugin"). conf.c reads the runtime's environment and stdin into a gw_spec
 * (pure, unit-tested); result.c writes the result and error JSON; main.c
 * dispatches the command to the core and is the only code that prints.
 */
#ifndef NSGATE_CNI_H
#define NSGATE_CNI_H

#include <stdbool.h>
#include <stddef.h>

#include "nsgate/json.h"
#include "nsgate/nsgate.h"

#define CNI_VERSION_LATEST "1.1.0"

enum cni_cmd { CNI_ADD, CNI_DEL, CNI_CHECK, CNI_VERSION, CNI_GC, CNI_STATUS };

/* The spec's well-known error codes, and nsgate-cni's own (100 and up). */
enum {
	CNI_ERR_VERSION = 1,       /* incompatible CNI version */
	CNI_ERR_FIELD = 2,         /* unsupported field in the network configuration */
	CNI_ERR_CONTAINER = 3,     /* container unknown or does not exist */
	CNI_ERR_ENV = 4,           /* invalid necessary environment variables */
	CNI_ERR_IO = 5,            /* I/O failure */
	CNI_ERR_DECODE = 6,        /* failed to decode content */
	CNI_ERR_CONFIG = 7,        /* invalid network config */
	CNI_ERR_AGAIN = 11,        /* try again later */
	CNI_ERR_UNAVAILABLE = 50,  /* STATUS: the plugin cannot take ADDs */
	CNI_ERR_CONFLICT = 100,    /* a port, subnet or name taken already */
	CNI_ERR_PERM = 101,        /* not privileged enough */
	CNI_ERR_KERNEL = 102,      /* the kernel lacks what nsgate needs */
	CNI_ERR_SYSTEM = 103,      /* the system failed (netlink, a file) */
};

struct cni_error {
	int code;
	char msg[256];
	char details[512];
};

/* The runtime's environment as read (NULL: unset). */
struct cni_env {
	const char *command, *container_id, *netns, *ifname, *args, *path;
};

/* One attachment GC is told to keep. */
struct cni_attachment {
	char name[GW_NAME_MAX + 1];   /* the gateway it is (cni_gateway_name) */
};

struct cni_conf {
	enum cni_cmd cmd;
	char version[16];             /* cniVersion, checked */
	char network[128];            /* the network configuration's name */
	struct gw_spec spec;          /* ADD, DEL, CHECK: the gateway */
	struct portmap *pubs;         /* runtimeConfig.portMappings, ranges collapsed */
	size_t n_pubs;
	struct ip_addr dns[GW_DNS_MAX];  /* "dns": {"nameservers"}: reported, not set up */
	unsigned n_dns;
	struct jv *root;      /* the whole document */
	const struct jv *prev;   /* prevResult (an object) or NULL */
	struct cni_attachment *valid; /* GC: cni.dev/valid-attachments */
	size_t n_valid;
	char gc_prefix[GW_NAME_MAX + 1];  /* GC: the prefix of this network's gateways */
};
void cni_conf_clear(struct cni_conf *c);

/* Whether v is a version this plugin speaks. */
bool cni_version_supported(const char *v);
/* CNI_COMMAND and what that command needs of the rest of env (ids, names
 * and CNI_ARGS checked). 0 or -EINVAL with ce filled. */
int cni_env_parse(const struct cni_env *env, enum cni_cmd *cmd, struct cni_error *ce);
/* The network configuration text (stdin) for cmd and env (cni_env_parse'd).
 * 0 or -errno with ce filled; clear c either way. */
int cni_conf_parse(const char *text, size_t len, enum cni_cmd cmd, const struct cni_env *env,
		   struct cni_conf *c, struct cni_error *ce);
/* The gateway of one attachment: GW_CNI_PREFIX, 3 hex digits of a hash of
 * the network's name, 8 of one of (container id, ifname). */
void cni_gateway_name(const char *network, const char *container_id, const char *ifname,
		      char ret[GW_NAME_MAX + 1]);
/* Podman sends one portMapping per port of a range: sort v[] and merge
 * neighbours that continue each other. Returns the new count. */
size_t cni_ports_collapse(struct portmap *v, size_t n);
/* ce from a core error: its kind to a code, what and why to the message. */
void cni_error_from(struct cni_error *ce, const struct nsg_err *e, int r);
void cni_error_set(struct cni_error *ce, int code, const char *details, const char *fmt, ...)
	_printf_(4, 5);

/* result.c: the JSON documents on stdout. */
struct cni_added {
	const struct gw_state *st;
	const struct gw_link_macs *macs;
	const char *sandbox;          /* CNI_NETNS */
};
/* The ADD result (prevResult's interfaces, ips and routes first). */
char *cni_result_json(const struct cni_conf *c, const struct cni_added *a);
char *cni_error_json(const char *version, const struct cni_error *ce);
char *cni_version_json(void);

#endif
