/* SPDX-License-Identifier: MIT */
/* Small helpers every module shares: cleanup attributes and error detail. */
#ifndef NSGATE_COMMON_H
#define NSGATE_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* A cleanup function for _cleanup_ from a library's free function:
 * DEFINE_CLEANUP(struct nl_msg, nlmsg_free) gives nlmsg_freep(). */
#define DEFINE_CLEANUP(type, fn)                  \
	static inline void fn##p(type **p)        \
	{                                          \
		if (*p)                            \
			fn(*p);                    \
	}

/* Hand a pointer (or descriptor) out of a scope that would otherwise free it. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/*
 * Modules never print. When an operation fails they return -errno and may
 * leave a detail here (the kernel's extended-ack text, the offending token);
 * the command layer turns both into "nsgate: <what>: <why>".
 */
struct nsg_err {
	int code;        /* negative errno, 0 when unset */
	char what[192];  /* the object: 'link "nsg-web"', 'subnet "10.0.0.0/8"' */
	char why[256];   /* the reason; empty means strerror(-code) */
};

/* Fill what (and optionally why) and return err, so callers can write
 * "return nsg_fail(e, -EINVAL, ...)". e may be NULL. */
int nsg_fail(struct nsg_err *e, int err, const char *why, const char *what_fmt, ...)
	_printf_(4, 5);
/* Set only the reason, keeping what the caller put in what. */
void nsg_why(struct nsg_err *e, const char *fmt, ...) _printf_(2, 3);
/* The reason text of e: why, or strerror of the code. */
const char *nsg_err_reason(const struct nsg_err *e);

/* Exit codes (documented in nsgate.8). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Errors that mean "bad input" rather than "the system failed": exit 2. */
static inline bool nsg_err_is_usage(int err)
{
	return err == -EINVAL || err == -EEXIST || err == -ENODEV || err == -ESRCH ||
	       err == -EADDRINUSE || err == -ENAMETOOLONG || err == -ERANGE ||
	       err == -EADDRNOTAVAIL;
}

#endif
