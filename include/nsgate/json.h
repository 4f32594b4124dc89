/* SPDX-License-Identifier: MIT */
/*
 * A small strict JSON reader (RFC 8259) for what a CNI runtime writes on the
 * plugin's stdin. Pure: text in, a tree out, no I/O, so it is unit-tested
 * and fuzzed. Strict where leniency would let two readers disagree on one
 * document: no comments, trailing commas, leading zeros or bare control
 * characters; strings valid UTF-8 with no NUL (C strings hold them);
 * surrogates paired; a key twice in one object refused; nesting bounded.
 */
#ifndef NSGATE_JSON_H
#define NSGATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsgate/common.h"

#define JV_DEPTH_MAX 64
#define JV_TEXT_MAX (1u << 20)   /* a network configuration is a few KiB */
/* Members of one object: the duplicate check is quadratic in them. */
#define JV_MEMBERS_MAX 1024

enum jv_type { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv_member;

struct jv {
	enum jv_type type;
	union {
		bool b;
		double num;
		char *str;                     /* NUL-terminated, no NUL inside */
		struct {
			struct jv *v;
			size_t n;
		} arr;
		struct {
			struct jv_member *m;  /* in document order */
			size_t n;
		} obj;
	};
	/* Numbers: the literal was an integer (no fraction, no exponent) that
	 * fits int64. */
	bool is_int;
	int64_t i;
};

struct jv_member {
	char *key;
	struct jv value;
};

/* Parse text[0..len) as exactly one JSON document (whitespace around it).
 * 0 with *ret malloc'ed (jv_free), or -EINVAL (-E2BIG past
 * JV_TEXT_MAX, -ENOMEM) with e's what "line L, column C" and why. */
int jv_parse(const char *text, size_t len, struct jv **ret, struct nsg_err *e);
void jv_free(struct jv *v);
DEFINE_CLEANUP(struct jv, jv_free)
#define _cleanup_jv_ _cleanup_(jv_freep)

/* Member key of an object, or NULL (also when v is not an object). */
const struct jv *jv_get(const struct jv *v, const char *key);
/* Member key when it is a string, else NULL. */
const char *jv_get_str(const struct jv *v, const char *key);
const char *jv_type_name(enum jv_type t);

#endif
