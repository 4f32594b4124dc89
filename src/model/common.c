/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "nsgate/common.h"

int nsg_grow(void **arr, size_t elem, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	p = reallocarray(*arr, n, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static int fail_v(struct nsg_err *e, enum nsg_kind kind, int err, const char *why,
		  const char *what_fmt, va_list ap)
{
	if (!e)
		return err;
	e->code = err;
	e->kind = kind;
	if (what_fmt)
		vsnprintf(e->what, sizeof(e->what), what_fmt, ap);
	if (why)
		snprintf(e->why, sizeof(e->why), "%s", why);
	return err;
}

int nsg_fail(struct nsg_err *e, int err, const char *why, const char *what_fmt, ...)
{
	enum nsg_kind kind = e && e->code == err && err ? e->kind : nsg_kind_of(err);
	va_list ap;

	va_start(ap, what_fmt);
	err = fail_v(e, kind, err, why, what_fmt, ap);
	va_end(ap);
	return err;
}

int nsg_fail_kind(struct nsg_err *e, enum nsg_kind kind, int err, const char *why,
		  const char *what_fmt, ...)
{
	va_list ap;

	va_start(ap, what_fmt);
	err = fail_v(e, kind, err, why, what_fmt, ap);
	va_end(ap);
	return err;
}

enum nsg_kind nsg_kind_of(int err)
{
	switch (-err) {
	case EINVAL: case ENAMETOOLONG: case ERANGE: case ENODEV: case ESRCH: case EADDRNOTAVAIL:
		return NSG_KIND_INPUT;
	case EEXIST: case EADDRINUSE:
		return NSG_KIND_CONFLICT;
	case EPERM: case EACCES:
		return NSG_KIND_PERM;
	case EPROTONOSUPPORT: case EOPNOTSUPP: case EAFNOSUPPORT:
		return NSG_KIND_UNSUPPORTED;
	case EBUSY:
		return NSG_KIND_BUSY;
	default:
		return NSG_KIND_SYSTEM;
	}
}

void nsg_why(struct nsg_err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
}

const char *nsg_err_reason(const struct nsg_err *e)
{
	if (e->why[0])
		return e->why;
	return strerror(e->code < 0 ? -e->code : e->code);
}
