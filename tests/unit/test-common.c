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
	};

	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
