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

/* The length of the UTF-8 sequence at p when it is well formed (shortest
 * form, no surrogate, at most U+10FFFF) and no C1 control; 0 otherwise.
 * Reads no further than the first byte that breaks the sequence, so never
 * past the terminating NUL. */
static size_t utf8_printable(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		lo = c == 0xc2 ? 0xa0 : 0x80;   /* C2 80..C2 9F: the C1 controls */
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;   /* E0 80..9F: overlong */
		hi = c == 0xed ? 0x9f : 0xbf;   /* ED A0..BF: surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;   /* F0 80..8F: overlong */
		hi = c == 0xf4 ? 0x8f : 0xbf;   /* F4 90..: above U+10FFFF */
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

char *nsg_escape(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (size == 0)
		return buf;
	while (*p) {
		size_t n = *p >= 0x80 ? utf8_printable(p) : *p >= 0x20 && *p != 0x7f && *p != '\\';
		char esc[8];
		const char *out = (const char *)p;
		size_t len = n;

		if (n == 0) {
			n = 1;
			len = *p == '\\' ? (size_t)snprintf(esc, sizeof(esc), "\\\\")
					 : (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
			out = esc;
		}
		if (o + len >= size)
			break;
		memcpy(buf + o, out, len);
		o += len;
		p += n;
	}
	buf[o] = '\0';
	return buf;
}
