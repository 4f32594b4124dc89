/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "nsgate/common.h"

int nsg_fail(struct nsg_err *e, int err, const char *why, const char *what_fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	e->code = err;
	if (what_fmt) {
		va_start(ap, what_fmt);
		vsnprintf(e->what, sizeof(e->what), what_fmt, ap);
		va_end(ap);
	}
	if (why)
		snprintf(e->why, sizeof(e->why), "%s", why);
	return err;
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
