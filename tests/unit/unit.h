/* SPDX-License-Identifier: MIT */
/* What every unit test file includes: cmocka (with the headers it needs
 * first) and a few helpers. */
#ifndef NSGATE_UNIT_H
#define NSGATE_UNIT_H

#include <setjmp.h>
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

/*
 * Behaviour src/ gets wrong today (see the comment at each use). ok is the
 * check itself: once the code is fixed the test passes on its own. While it
 * is broken the test is reported as skipped, so the "unit" label stays green,
 * unless NSGATE_UNIT_STRICT=1 is set, which turns it into a failure.
 */
static inline bool unit_strict(void)
{
	const char *s = getenv("NSGATE_UNIT_STRICT");

	return s && !strcmp(s, "1");
}

#define known_bug(ok, desc)                                                     \
	do {                                                                    \
		if (ok)                                                         \
			break;                                                  \
		if (unit_strict())                                              \
			fail_msg("known bug: %s", desc);                        \
		print_message("[  KNOWN   ] %s\n", desc);                       \
		skip();                                                         \
	} while (0)

/* For a known bug whose mere exercise aborts a sanitizer build. */
#define known_bug_crash(desc)                                                   \
	do {                                                                    \
		if (!unit_strict()) {                                           \
			print_message("[  KNOWN   ] %s\n", desc);               \
			skip();                                                 \
		}                                                               \
	} while (0)

#endif
