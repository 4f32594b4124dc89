/* SPDX-License-Identifier: MIT */
/* A strict recursive-descent JSON reader (include/nsgate/json.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/json.h"

struct reader {
	const char *p, *end, *start;
	struct nsg_err *e;
	int depth;
};

/* Where the reader stands, as a person counts: line and column from 1. */
static int fail_at(struct reader *rd, int err, const char *why)
{
	unsigned line = 1, col = 1;

	for (const char *q = rd->start; q < rd->p && q < rd->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return nsg_fail_kind(rd->e, NSG_KIND_INPUT, err, why, "JSON at line %u, column %u", line,
			     col);
}

static void skip_ws(struct reader *rd)
{
	while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\t' || *rd->p == '\n' || *rd->p == '\r'))
		rd->p++;
}

static int parse_value(struct reader *rd, struct jv *v);

static int hex4(struct reader *rd, unsigned *ret)
{
	unsigned x = 0;

	if (rd->end - rd->p < 4)
		return fail_at(rd, -EINVAL, "\\u needs four hex digits");
	for (int i = 0; i < 4; i++) {
		char c = *rd->p++;

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (unsigned)(c - 'A' + 10);
		else
			return fail_at(rd, -EINVAL, "\\u needs four hex digits");
	}
	*ret = x;
	return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* One escape after the backslash, written to out; returns bytes or -errno. */
static int parse_escape(struct reader *rd, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned cp, lo;
	const char *k;
	int r;

	if (rd->p >= rd->end)
		return fail_at(rd, -EINVAL, "unterminated string");
	k = strchr(from, *rd->p);
	if (k && *rd->p) {
		rd->p++;
		*out = to[k - from];
		return 1;
	}
	if (*rd->p++ != 'u')
		return fail_at(rd, -EINVAL, "unknown escape");
	if ((r = hex4(rd, &cp)) < 0)
		return r;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail_at(rd, -EINVAL, "a low surrogate without its high one");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (rd->end - rd->p < 2 || rd->p[0] != '\\' || rd->p[1] != 'u')
			return fail_at(rd, -EINVAL, "a high surrogate without its low one");
		rd->p += 2;
		if ((r = hex4(rd, &lo)) < 0)
			return r;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail_at(rd, -EINVAL, "a high surrogate without its low one");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return fail_at(rd, -EINVAL, "\\u0000 is not allowed");
	return (int)put_utf8(out, cp);
}

/* Length of the valid UTF-8 sequence at p (not ASCII), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned cp;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int parse_string(struct reader *rd, char **ret)
{
	const char *q;
	char *out, *w;
	int r;

	rd->p++;  /* the opening quote */
	/* The decoded text is never longer than the literal. */
	for (q = rd->p; q < rd->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < rd->end)
			q++;
	out = malloc((size_t)(q - rd->p) + 1);
	if (!out)
		return -ENOMEM;
	w = out;
	for (;;) {
		unsigned char c;
		size_t n;

		if (rd->p >= rd->end) {
			r = fail_at(rd, -EINVAL, "unterminated string");
			goto fail;
		}
		c = (unsigned char)*rd->p;
		if (c == '"')
			break;
		if (c < 0x20) {
			r = fail_at(rd, -EINVAL, "a control character in a string (escape it)");
			goto fail;
		}
		if (c == '\\') {
			rd->p++;
			r = parse_escape(rd, w);
			if (r < 0)
				goto fail;
			w += r;
			continue;
		}
		n = c < 0x80 ? 1 : utf8_len((const unsigned char *)rd->p, (const unsigned char *)rd->end);
		if (n == 0) {
			r = fail_at(rd, -EINVAL, "invalid UTF-8 in a string");
			goto fail;
		}
		memcpy(w, rd->p, n);
		w += n;
		rd->p += n;
	}
	rd->p++;
	*w = '\0';
	*ret = out;
	return 0;
fail:
	free(out);
	return r;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct reader *rd, struct jv *v)
{
	const char *s = rd->p, *q = rd->p;
	char buf[64];
	bool integral = true;

	if (q < rd->end && *q == '-')
		q++;
	if (q >= rd->end || !is_digit(*q))
		return fail_at(rd, -EINVAL, "not a value");
	if (*q == '0' && q + 1 < rd->end && is_digit(q[1]))
		return fail_at(rd, -EINVAL, "a number with a leading zero");
	while (q < rd->end && is_digit(*q))
		q++;
	if (q < rd->end && *q == '.') {
		integral = false;
		if (++q >= rd->end || !is_digit(*q))
			return fail_at(rd, -EINVAL, "a digit must follow the decimal point");
		while (q < rd->end && is_digit(*q))
			q++;
	}
	if (q < rd->end && (*q == 'e' || *q == 'E')) {
		integral = false;
		if (++q < rd->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= rd->end || !is_digit(*q))
			return fail_at(rd, -EINVAL, "a digit must follow the exponent");
		while (q < rd->end && is_digit(*q))
			q++;
	}
	if ((size_t)(q - s) >= sizeof(buf))
		return fail_at(rd, -EINVAL, "a number too long");
	memcpy(buf, s, (size_t)(q - s));
	buf[q - s] = '\0';
	v->type = JV_NUMBER;
	v->num = strtod(buf, NULL);
	if (!isfinite(v->num))
		return fail_at(rd, -EINVAL, "a number out of range");
	if (integral) {
		errno = 0;
		v->i = strtoll(buf, NULL, 10);
		v->is_int = errno == 0;
	}
	rd->p = q;
	return 0;
}

static int expect(struct reader *rd, char c, const char *why)
{
	skip_ws(rd);
	if (rd->p >= rd->end || *rd->p != c)
		return fail_at(rd, -EINVAL, why);
	rd->p++;
	return 0;
}

static int parse_array(struct reader *rd, struct jv *v)
{
	size_t cap = 0;
	int r;

	v->type = JV_ARRAY;
	rd->p++;
	skip_ws(rd);
	if (rd->p < rd->end && *rd->p == ']') {
		rd->p++;
		return 0;
	}
	for (;;) {
		if (GROW(v->arr.v, cap, v->arr.n + 1) < 0)
			return -ENOMEM;
		r = parse_value(rd, &v->arr.v[v->arr.n]);
		v->arr.n++;  /* counted either way, so jv_free sees it */
		if (r < 0)
			return r;
		skip_ws(rd);
		if (rd->p < rd->end && *rd->p == ',') {
			rd->p++;
			continue;
		}
		return expect(rd, ']', "',' or ']' expected in an array");
	}
}

static int parse_object(struct reader *rd, struct jv *v)
{
	size_t cap = 0;
	int r;

	v->type = JV_OBJECT;
	rd->p++;
	skip_ws(rd);
	if (rd->p < rd->end && *rd->p == '}') {
		rd->p++;
		return 0;
	}
	for (;;) {
		struct jv_member *m;
		char *key = NULL;

		skip_ws(rd);
		if (rd->p >= rd->end || *rd->p != '"')
			return fail_at(rd, -EINVAL, "a string key expected in an object");
		if (v->obj.n == JV_MEMBERS_MAX)
			return fail_at(rd, -EINVAL, "an object with more than 1024 members");
		if (GROW(v->obj.m, cap, v->obj.n + 1) < 0)
			return -ENOMEM;
		r = parse_string(rd, &key);
		if (r < 0)
			return r;
		if (jv_get(v, key)) {
			free(key);
			return fail_at(rd, -EINVAL, "a key given twice in one object");
		}
		m = &v->obj.m[v->obj.n++];
		*m = (struct jv_member){ .key = key };
		if ((r = expect(rd, ':', "':' expected after a key")) < 0 ||
		    (r = parse_value(rd, &m->value)) < 0)
			return r;
		skip_ws(rd);
		if (rd->p < rd->end && *rd->p == ',') {
			rd->p++;
			continue;
		}
		return expect(rd, '}', "',' or '}' expected in an object");
	}
}

static int parse_literal(struct reader *rd, const char *word, struct jv *v,
			 enum jv_type t, bool b)
{
	size_t n = strlen(word);

	if ((size_t)(rd->end - rd->p) < n || memcmp(rd->p, word, n))
		return fail_at(rd, -EINVAL, "not a value");
	rd->p += n;
	v->type = t;
	v->b = b;
	return 0;
}

static int parse_value(struct reader *rd, struct jv *v)
{
	int r;

	*v = (struct jv){ .type = JV_NULL };
	skip_ws(rd);
	if (rd->p >= rd->end)
		return fail_at(rd, -EINVAL, "a value expected");
	switch (*rd->p) {
	case '{':
	case '[':
		if (++rd->depth > JV_DEPTH_MAX)
			return fail_at(rd, -EINVAL, "nested too deep");
		r = *rd->p == '{' ? parse_object(rd, v) : parse_array(rd, v);
		rd->depth--;
		return r;
	case '"':
		r = parse_string(rd, &v->str);
		if (r == 0)
			v->type = JV_STRING;
		return r;
	case 't': return parse_literal(rd, "true", v, JV_BOOL, true);
	case 'f': return parse_literal(rd, "false", v, JV_BOOL, false);
	case 'n': return parse_literal(rd, "null", v, JV_NULL, false);
	default: return parse_number(rd, v);
	}
}

static void jv_clear(struct jv *v)
{
	switch (v->type) {
	case JV_STRING:
		free(v->str);
		break;
	case JV_ARRAY:
		for (size_t i = 0; i < v->arr.n; i++)
			jv_clear(&v->arr.v[i]);
		free(v->arr.v);
		break;
	case JV_OBJECT:
		for (size_t i = 0; i < v->obj.n; i++) {
			free(v->obj.m[i].key);
			jv_clear(&v->obj.m[i].value);
		}
		free(v->obj.m);
		break;
	default:
		break;
	}
}

void jv_free(struct jv *v)
{
	if (!v)
		return;
	jv_clear(v);
	free(v);
}

int jv_parse(const char *text, size_t len, struct jv **ret, struct nsg_err *e)
{
	struct reader rd = { .p = text, .end = text + len, .start = text, .e = e };
	_cleanup_jv_ struct jv *v = NULL;
	int r;

	if (len > JV_TEXT_MAX)
		return nsg_fail_kind(e, NSG_KIND_INPUT, -E2BIG, "longer than 1 MiB", "JSON");
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r = parse_value(&rd, v);
	if (r == -ENOMEM)
		return nsg_fail(e, r, NULL, "JSON");
	if (r < 0)
		return r;
	skip_ws(&rd);
	if (rd.p != rd.end)
		return fail_at(&rd, -EINVAL, "text after the document");
	*ret = TAKE_PTR(v);
	return 0;
}

const struct jv *jv_get(const struct jv *v, const char *key)
{
	if (!v || v->type != JV_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->obj.n; i++)
		if (!strcmp(v->obj.m[i].key, key))
			return &v->obj.m[i].value;
	return NULL;
}

const char *jv_get_str(const struct jv *v, const char *key)
{
	const struct jv *s = jv_get(v, key);

	return s && s->type == JV_STRING ? s->str : NULL;
}

const char *jv_type_name(enum jv_type t)
{
	static const char *const names[] = { "null", "a boolean", "a number", "a string",
					     "an array", "an object" };

	return (size_t)t < ARRAY_SIZE(names) ? names[t] : "?";
}
