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

/*
 * The one grow-array helper: make room in *arr (of *cap elements of size
 * elem) for at least need elements, doubling (from a first size of 16) so a
 * push is amortised O(1). The array is untouched on failure. 0 or -ENOMEM.
 *     if (GROW(v, cap, n + 1) < 0) return -ENOMEM;
 *     v[n++] = x;
 */
int nsg_grow(void **arr, size_t elem, size_t *cap, size_t need);
#define GROW(arr, cap, need) nsg_grow((void **)&(arr), sizeof(*(arr)), &(cap), (need))

/* Hand a pointer (or descriptor) out of a scope that would otherwise free it. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/*
 * What kind of failure an error is. The site where an error arises knows
 * (a name that matches no gateway is "not found" there, whatever errno
 * carried it); front ends map kinds to exit codes in one place and never
 * guess from the errno or the message.
 */
enum nsg_kind {
	NSG_KIND_SYSTEM = 0,     /* the system failed: a file, memory, the kernel */
	NSG_KIND_INPUT,          /* bad input: a name, an option's value, a SPEC, a file */
	NSG_KIND_CONFLICT,       /* taken already: a name, a port, a subnet, an interface */
	NSG_KIND_NOT_FOUND,      /* the gateway the user named does not exist */
	NSG_KIND_BUSY,           /* in use by something else right now */
	NSG_KIND_PERM,           /* missing privileges */
	NSG_KIND_UNSUPPORTED,    /* the kernel lacks what nsgate needs */
	NSG_KIND_CMD_NOT_FOUND,  /* run/exec: the user's command does not exist */
	NSG_KIND_CMD_CANNOT_RUN, /* run/exec: the user's command could not be started */
};

/*
 * The core never prints. When an operation fails it returns -errno and may
 * leave a detail here (the kernel's extended-ack text, the offending token)
 * and the kind; a front end turns them into "nsgate: <what>: <why>" and an
 * exit code.
 */
struct nsg_err {
	int code;           /* negative errno, 0 when unset */
	enum nsg_kind kind;
	char what[192];     /* the object: 'link "nsg-web"', 'subnet "10.0.0.0/8"' */
	char why[256];      /* the reason; empty means strerror(-code) */
};

/* Fill what (and optionally why) and return err, so callers can write
 * "return nsg_fail(e, -EINVAL, ...)". e may be NULL. The kind is the one
 * the errno stands for by default (nsg_kind_of); re-labelling an error
 * with the same code keeps the kind it had. */
int nsg_fail(struct nsg_err *e, int err, const char *why, const char *what_fmt, ...)
	_printf_(4, 5);
/* The same with the kind named by the site. */
int nsg_fail_kind(struct nsg_err *e, enum nsg_kind kind, int err, const char *why,
		  const char *what_fmt, ...) _printf_(5, 6);
/* Set only the reason, keeping what the caller put in what. */
void nsg_why(struct nsg_err *e, const char *fmt, ...) _printf_(2, 3);
/* The reason text of e: why, or strerror of the code. */
const char *nsg_err_reason(const struct nsg_err *e);
/* The kind an errno stands for where the site says nothing else: the
 * refusals of bad input (-EINVAL, -ENAMETOOLONG, -ERANGE, -ENODEV, -ESRCH,
 * -EADDRNOTAVAIL), conflicts (-EEXIST, -EADDRINUSE), privileges (-EPERM,
 * -EACCES), missing kernel support, busy; anything else is a system failure. */
enum nsg_kind nsg_kind_of(int err);

/*
 * Text for a terminal, on one line: s copied into buf (size bytes, always
 * terminated; cut between two characters when it does not fit) with every
 * byte a terminal could obey or could not show written as \xNN: the C0
 * controls (newline, ESC, ...), DEL, and bytes above 0x7f that are not
 * valid UTF-8 or encode a C1 control (U+0080..U+009F, which some terminals
 * take as ESC sequences). A backslash becomes "\\", so the output reads
 * back unambiguously. Valid UTF-8 (a path with an accent) stays as it is.
 * NSG_ESCAPED_SIZE(n) holds any n-byte string. Returns buf.
 */
char *nsg_escape(const char *s, char *buf, size_t size);
#define NSG_ESCAPED_SIZE(n) (4 * (n) + 1)

#endif
