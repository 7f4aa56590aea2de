/* tests/fuzz/fuzz.h: what every libFuzzer target of tests/fuzz shares.
 *
 * A target is one C file defining LLVMFuzzerTestOneInput() over one wire
 * parser.  Besides "does not crash under ASan/UBSan", targets check
 * properties that must hold for any input (a parsed view stays inside the
 * buffer, what a writer produces parses back to the same values).  A
 * violated property aborts with FUZZ_CHECK, which libFuzzer reports as a
 * crash and saves the input, exactly like a sanitizer finding.
 */
#ifndef PL_TESTS_FUZZ_H
#define PL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, \
				__LINE__, #cond);                                 \
			abort();                                                  \
		}                                                                 \
	} while (0)

#endif
