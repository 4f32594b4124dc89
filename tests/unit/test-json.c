/* SPDX-License-Identifier: MIT */
/* json: the strict reader nsgate-cni reads its stdin with. Pure. */
#include "unit.h"

#include <stdio.h>

#include "nsgate/json.h"

static struct jv *ok(const char *text)
{
	struct jv *v = NULL;
	struct nsg_err e = { 0 };

	if (jv_parse(text, strlen(text), &v, &e) < 0)
		fail_msg("'%s' refused: %s: %s", text, e.what, nsg_err_reason(&e));
	return v;
}

/* text is refused, with why containing want and what naming the place. */
static void bad(const char *text, size_t len, const char *want, const char *where)
{
	struct jv *v = NULL;
	struct nsg_err e = { 0 };
	int r = jv_parse(text, len, &v, &e);

	if (r == 0) {
		jv_free(v);
		fail_msg("'%.*s' accepted", (int)len, text);
	}
	assert_int_equal(r, -EINVAL);
	assert_int_equal(e.kind, NSG_KIND_INPUT);
	assert_contains(nsg_err_reason(&e), want);
	if (where)
		assert_contains(e.what, where);
}
#define BAD(text, want) bad(text, strlen(text), want, NULL)

static void test_values(void **state)
{
	struct jv *v = ok(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}, \"c\": []}\n");
	const struct jv *a = jv_get(v, "a");

	assert_int_equal(v->type, JV_OBJECT);
	assert_int_equal(v->obj.n, 3);
	assert_non_null(a);
	assert_int_equal(a->type, JV_ARRAY);
	assert_int_equal(a->arr.n, 6);
	assert_true(a->arr.v[0].is_int);
	assert_int_equal(a->arr.v[0].i, 1);
	assert_false(a->arr.v[1].is_int);
	assert_true(a->arr.v[1].num == -2500.0);
	assert_true(a->arr.v[2].type == JV_BOOL && a->arr.v[2].b);
	assert_true(a->arr.v[3].type == JV_BOOL && !a->arr.v[3].b);
	assert_int_equal(a->arr.v[4].type, JV_NULL);
	assert_string_equal(a->arr.v[5].str, "x");
	assert_int_equal(jv_get(v, "b")->type, JV_OBJECT);
	assert_int_equal(jv_get(v, "c")->arr.n, 0);
	assert_null(jv_get(v, "d"));
	assert_null(jv_get_str(v, "a"));
	assert_null(jv_get(a, "a"));  /* not an object */
	jv_free(v);
	v = ok("0");
	assert_true(v->is_int && v->i == 0);
	jv_free(v);
	v = ok("-0.0");
	assert_false(v->is_int);
	jv_free(v);
	/* Beyond int64: a number, not an integer. */
	v = ok("92233720368547758080");
	assert_int_equal(v->type, JV_NUMBER);
	assert_false(v->is_int);
	jv_free(v);
}

static void test_strings(void **state)
{
	struct jv *v = ok("[\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\", \"\\ud83d\\ude00\", \"h\xc3\xa9\"]");

	assert_string_equal(v->arr.v[0].str, "a\"\\/\b\f\n\r\t");
	assert_string_equal(v->arr.v[1].str, "\xc3\xa9\xe2\x82\xac");
	assert_string_equal(v->arr.v[2].str, "\xf0\x9f\x98\x80");
	assert_string_equal(v->arr.v[3].str, "h\xc3\xa9");
	jv_free(v);
}

static void test_refused(void **state)
{
	BAD("", "a value expected");
	BAD("   ", "a value expected");
	BAD("{\"a\": 1,}", "a string key expected");
	BAD("[1, 2,]", "not a value");
	BAD("{\"a\" 1}", "':' expected");
	BAD("{\"a\": 1 \"b\": 2}", "',' or '}' expected");
	BAD("[1 2]", "',' or ']' expected");
	BAD("{\"a\": 1, \"a\": 2}", "twice");
	BAD("{'a': 1}", "a string key expected");
	BAD("// c\n{}", "not a value");
	BAD("{} x", "text after the document");
	BAD("{}{}", "text after the document");
	BAD("01", "leading zero");
	BAD("-", "not a value");
	BAD("1.", "decimal point");
	BAD("1e", "exponent");
	BAD(".5", "not a value");
	BAD("+1", "not a value");
	BAD("1e999", "out of range");
	BAD("NaN", "not a value");
	BAD("tru", "not a value");
	BAD("nul", "not a value");
	BAD("\"abc", "unterminated");
	BAD("\"a\tb\"", "control character");
	BAD("\"a\\x\"", "unknown escape");
	BAD("\"\\u12\"", "four hex digits");
	BAD("\"\\u0000\"", "\\u0000");
	BAD("\"\\ud83d\"", "high surrogate");
	BAD("\"\\ud83dx\"", "high surrogate");
	BAD("\"\\ud83d\\u0041\"", "high surrogate");
	BAD("\"\\ude00\"", "low surrogate");
	BAD("\"\xc3\"", "UTF-8");
	BAD("\"\xc0\xaf\"", "UTF-8");           /* overlong '/' */
	BAD("\"\xe0\x80\xaf\"", "UTF-8");       /* overlong, 3 bytes */
	BAD("\"\xed\xa0\x80\"", "UTF-8");       /* a surrogate encoded */
	BAD("\"\xf4\x90\x80\x80\"", "UTF-8");   /* past U+10FFFF */
	BAD("\"\xff\"", "UTF-8");
	/* A NUL byte inside: not a C string any more. */
	bad("\"a\0b\"", 5, "control character", NULL);
	bad("{}\0", 3, "text after", NULL);
}

static void test_position(void **state)
{
	bad("{\n  \"a\": 1,\n  \"b\": ]\n}", 21, "not a value", "line 3, column 8");
}

static void test_depth_and_size(void **state)
{
	char deep[2 * (JV_DEPTH_MAX + 1) + 1];
	struct jv *v = NULL;
	struct nsg_err e = { 0 };
	char *big;

	for (int i = 0; i < JV_DEPTH_MAX; i++) {
		deep[i] = '[';
		deep[2 * JV_DEPTH_MAX - 1 - i] = ']';
	}
	deep[2 * JV_DEPTH_MAX] = '\0';
	v = ok(deep);
	jv_free(v);
	memmove(deep + 1, deep, strlen(deep) + 1);
	deep[0] = '[';
	strcat(deep, "]");
	BAD(deep, "nested too deep");
	big = calloc(1, JV_TEXT_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', JV_TEXT_MAX + 1);
	big[0] = '1';
	assert_int_equal(jv_parse(big, JV_TEXT_MAX + 1, &v, &e), -E2BIG);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_position),
		cmocka_unit_test(test_depth_and_size),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
