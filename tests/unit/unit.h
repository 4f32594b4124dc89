/* SPDX-License-Identifier: MIT */
/* What every unit test file includes: cmocka (with the headers it needs
 * first) and a few helpers. */
#ifndef NSGATE_UNIT_H
#define NSGATE_UNIT_H

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Fail unless needle occurs in haystack, printing both. */
#define assert_contains(haystack, needle)                                                   \
	do {                                                                                \
		const char *_h = (haystack), *_n = (needle);                                \
		if (!_h || !strstr(_h, _n))                                                 \
			fail_msg("\"%s\" does not contain \"%s\"", _h ? _h : "(null)", _n); \
	} while (0)

#define assert_not_contains(haystack, needle)                                   \
	do {                                                                    \
		const char *_h = (haystack), *_n = (needle);                    \
		if (_h && strstr(_h, _n))                                       \
			fail_msg("\"%s\" contains \"%s\"", _h, _n);             \
	} while (0)

#endif
