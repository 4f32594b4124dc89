/* SPDX-License-Identifier: MIT */
/* What the libFuzzer targets share: property checks that hold in release
 * builds, the input as a C string, and the SPEC round trip. */
#ifndef NSGATE_FUZZ_COMMON_H
#define NSGATE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Not assert(): release builds define NDEBUG. */
#define CHECK(x)                                                         \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "check failed: %s\n", #x);       \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a malloc'ed C string (it ends at a NUL byte of the input, as the
 * parsers see text); NULL when out of memory. */
char *fuzz_text(const uint8_t *data, size_t size);
/* A SPEC that portmap_parse accepts prints (portmap_str) to one that parses
 * back to the same mapping; one it refuses comes with an error. */
void fuzz_check_portmap(const char *text);

#endif
