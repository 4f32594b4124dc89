/* SPDX-License-Identifier: MIT */
/* common: the error detail helpers every module reports through. */
#include "unit.h"

#include <stdint.h>
#include <stdio.h>

#include "nsgate/common.h"

/* nsg_fail fills code, what (formatted) and why, and returns the error. */
static void test_fail_fills(void **state)
{
	struct nsg_err e = { 0 };

	assert_int_equal(nsg_fail(&e, -EINVAL, "must not be empty", "name \"%s\" #%d", "x", 3),
			 -EINVAL);
	assert_int_equal(e.code, -EINVAL);
	assert_string_equal(e.what, "name \"x\" #3");
	assert_string_equal(e.why, "must not be empty");
}

/* A NULL error is allowed: the code is still returned. */
static void test_fail_null(void **state)
{
	assert_int_equal(nsg_fail(NULL, -ENOENT, "why", "what %d", 1), -ENOENT);
	nsg_why(NULL, "ignored %d", 2);
}

/* Without why (or what), nsg_fail keeps what is there: callers re-label an
 * inner error (spec_netns_parse wraps spec_name_check) and keep its reason. */
static void test_fail_keeps(void **state)
{
	struct nsg_err e = { 0 };

	nsg_fail(&e, -EINVAL, "inner reason", "inner");
	nsg_fail(&e, -ENAMETOOLONG, NULL, "outer %s", "object");
	assert_int_equal(e.code, -ENAMETOOLONG);
	assert_string_equal(e.what, "outer object");
	assert_string_equal(e.why, "inner reason");
	nsg_fail(&e, -EIO, "new reason", NULL);
	assert_int_equal(e.code, -EIO);
	assert_string_equal(e.what, "outer object");
	assert_string_equal(e.why, "new reason");
}

/* nsg_why sets only the reason, formatted. */
static void test_why(void **state)
{
	struct nsg_err e = { 0 };

	nsg_fail(&e, -EINVAL, NULL, "name \"a b\"");
	nsg_why(&e, "character '%c' not allowed", ' ');
	assert_int_equal(e.code, -EINVAL);
	assert_string_equal(e.what, "name \"a b\"");
	assert_string_equal(e.why, "character ' ' not allowed");
}

/* The reason is why when set, strerror of the code otherwise (either sign). */
static void test_reason(void **state)
{
	struct nsg_err e = { 0 };
	char expect[128];

	snprintf(expect, sizeof(expect), "%s", strerror(ENOENT));
	nsg_fail(&e, -ENOENT, NULL, "file");
	assert_string_equal(nsg_err_reason(&e), expect);
	e.code = ENOENT;
	assert_string_equal(nsg_err_reason(&e), expect);
	nsg_why(&e, "gone");
	assert_string_equal(nsg_err_reason(&e), "gone");
}

/* Overlong what and why are cut, never overflowed, and stay terminated. */
static void test_truncation(void **state)
{
	struct nsg_err e;
	char big[1024];

	memset(&e, 'X', sizeof(e));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nsg_fail(&e, -EINVAL, big, "%s", big);
	assert_int_equal(strlen(e.what), sizeof(e.what) - 1);
	assert_int_equal(strlen(e.why), sizeof(e.why) - 1);
	nsg_why(&e, "%s!", big);
	assert_int_equal(strlen(e.why), sizeof(e.why) - 1);
}

/* The default kind of an errno: bad input and conflicts (exit 2) against
 * system failures (exit 1). */
static void test_kind_of(void **state)
{
	assert_int_equal(nsg_kind_of(-EINVAL), NSG_KIND_INPUT);
	assert_int_equal(nsg_kind_of(-ENAMETOOLONG), NSG_KIND_INPUT);
	assert_int_equal(nsg_kind_of(-ERANGE), NSG_KIND_INPUT);
	assert_int_equal(nsg_kind_of(-EEXIST), NSG_KIND_CONFLICT);
	assert_int_equal(nsg_kind_of(-EADDRINUSE), NSG_KIND_CONFLICT);
	assert_int_equal(nsg_kind_of(-EPERM), NSG_KIND_PERM);
	assert_int_equal(nsg_kind_of(-EIO), NSG_KIND_SYSTEM);
	assert_int_equal(nsg_kind_of(0), NSG_KIND_SYSTEM);
	assert_int_equal(nsg_kind_of(EINVAL), NSG_KIND_SYSTEM);
}

/* A site's kind sticks: re-labelling the same error keeps it, a new error
 * takes its errno's kind. */
static void test_kind_kept(void **state)
{
	struct nsg_err e = { 0 };

	nsg_fail_kind(&e, NSG_KIND_NOT_FOUND, -ENOENT, "no such gateway", "gateway \"%s\"", "x");
	assert_int_equal(e.kind, NSG_KIND_NOT_FOUND);
	nsg_fail(&e, -ENOENT, NULL, "outer");
	assert_int_equal(e.kind, NSG_KIND_NOT_FOUND);
	assert_string_equal(e.why, "no such gateway");
	nsg_fail(&e, -EEXIST, NULL, "other");
	assert_int_equal(e.kind, NSG_KIND_CONFLICT);
}

/* The grow-array helper: room for need, doubling, untouched on overflow. */
static void test_grow(void **state)
{
	int *v = NULL;
	size_t cap = 0;

	assert_int_equal(GROW(v, cap, 1), 0);
	assert_int_equal(cap, 16);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(GROW(v, cap, (size_t)i + 1), 0);
		v[i] = i;
	}
	assert_int_equal(cap, 128);
	assert_int_equal(v[99], 99);
	assert_int_equal(GROW(v, cap, 50), 0);
	assert_int_equal(cap, 128);
	assert_int_equal(GROW(v, cap, SIZE_MAX), -ENOMEM);
	assert_int_equal(cap, 128);
	assert_int_equal(v[42], 42);
	free(v);
}

/* ------------------------------------------------------------- escaping */

static const char *esc(const char *s)
{
	static char buf[256];

	return nsg_escape(s, buf, sizeof(buf));
}

/* Printable ASCII stays; every C0 control, DEL and the backslash are escaped,
 * so a message is one line that reads back unambiguously. */
static void test_escape_ascii(void **state)
{
	char all[0x80], *out = malloc(NSG_ESCAPED_SIZE(sizeof(all)));

	assert_string_equal(esc(""), "");
	assert_string_equal(esc("web \"x\" 10.0.0.0/30: ok ~"), "web \"x\" 10.0.0.0/30: ok ~");
	assert_string_equal(esc("a\nb"), "a\\x0ab");
	assert_string_equal(esc("\x1b[31mred"), "\\x1b[31mred");
	assert_string_equal(esc("\r\t\x7f\x01"), "\\x0d\\x09\\x7f\\x01");
	assert_string_equal(esc("a\\x0ab"), "a\\\\x0ab");
	/* Every byte 1..0x7f: the output has no control byte left. */
	for (int i = 1; i < 0x80; i++)
		all[i - 1] = (char)i;
	all[0x7f] = '\0';
	assert_non_null(out);
	nsg_escape(all, out, NSG_ESCAPED_SIZE(sizeof(all)));
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("byte 0x%02x left in \"%s\"", (unsigned char)*p, out);
	/* 31 controls and DEL as \xNN, the backslash doubled, 94 as they are. */
	assert_int_equal(strlen(out), 31 * 4 + 4 + 2 + 94);
	free(out);
}

/* Valid UTF-8 stays as it is; broken, overlong, surrogate, too large
 * sequences and the C1 controls (CSI U+009B would start an ESC sequence on
 * some terminals) are escaped byte by byte. */
static void test_escape_utf8(void **state)
{
	assert_string_equal(esc("caf\xc3\xa9"), "caf\xc3\xa9");                /* é */
	assert_string_equal(esc("\xc2\xa0\xe2\x82\xac"), "\xc2\xa0\xe2\x82\xac"); /* nbsp € */
	assert_string_equal(esc("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");        /* U+1F600 */
	assert_string_equal(esc("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");        /* U+10FFFF */
	assert_string_equal(esc("\xc2\x9b" "31m"), "\\xc2\\x9b31m");            /* C1 CSI */
	assert_string_equal(esc("\xc2\x85"), "\\xc2\\x85");                      /* C1 NEL */
	assert_string_equal(esc("\xff\xfe"), "\\xff\\xfe");
	assert_string_equal(esc("\x80"), "\\x80");                               /* lone continuation */
	assert_string_equal(esc("\xc3"), "\\xc3");                               /* cut at the end */
	assert_string_equal(esc("\xc3x"), "\\xc3x");
	assert_string_equal(esc("\xe2\x82"), "\\xe2\\x82");
	assert_string_equal(esc("\xe2\x82x"), "\\xe2\\x82x");
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");                      /* overlong '/' */
	assert_string_equal(esc("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	assert_string_equal(esc("\xf0\x80\x80\xaf"), "\\xf0\\x80\\x80\\xaf");
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");             /* surrogate */
	assert_string_equal(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");    /* > U+10FFFF */
	assert_string_equal(esc("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80");
	assert_string_equal(esc("\xe2\x82\n"), "\\xe2\\x82\\x0a");
}

/* A short buffer is cut between two characters (never inside an escape or
 * a UTF-8 sequence) and always terminated; size 0 writes nothing. */
static void test_escape_truncation(void **state)
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	assert_ptr_equal(nsg_escape("abcdefghij", buf, sizeof(buf)), buf);
	assert_string_equal(buf, "abcdefg");
	assert_string_equal(nsg_escape("abcde\n", buf, sizeof(buf)), "abcde");
	assert_string_equal(nsg_escape("ab\ncd", buf, sizeof(buf)), "ab\\x0ac");
	assert_string_equal(nsg_escape("abcd\ne", buf, sizeof(buf)), "abcd");
	assert_string_equal(nsg_escape("abcd\xc3\xa9", buf, 7), "abcd\xc3\xa9");
	assert_string_equal(nsg_escape("abcde\xc3\xa9", buf, 7), "abcde");
	assert_string_equal(nsg_escape("\\\\\\\\", buf, 4), "\\\\");
	buf[0] = 'X';
	nsg_escape("abc", buf, 0);
	assert_int_equal(buf[0], 'X');
	assert_string_equal(nsg_escape("abc", buf, 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_fills),
		cmocka_unit_test(test_fail_null),
		cmocka_unit_test(test_fail_keeps),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_kind_of),
		cmocka_unit_test(test_kind_kept),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_escape_ascii),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_truncation),
	};

	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
