/*
 * fuzz_from.c - From: field parsing: the strict parser (addr.c) and the
 * entry the daemon uses (align_from), whose domain goes into alignment,
 * _dmarc DNS names and the Authentication-Results field.
 *
 * Input: a From: field body, folds included. Properties: no memory error;
 * a field that parses has a count of 0 or more, a failure says why; for
 * exactly one mailbox, the domain is a valid domain name in normal form:
 * lower-case LDH labels of 1 to 63 octets, no hyphen at either end, at most
 * 253 octets in all, no trailing dot (U-labels come back as A-labels);
 * normalizing it again changes nothing; align_from agrees with
 * addr_parse_from on the count and the domain. addr_domain on the raw
 * input obeys the same rules when it accepts it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "align.h"
#include "fuzz.h"

static void
check_domain(const char *d)
{
	size_t len = strlen(d), label = 0, i;
	char again[LIMIT_DOMAIN + 1];
	const char *why;

	if (len == 0 || len > 253)
		fuzz_fail("domain of %zu octets: %s", len, d);
	for (i = 0; i <= len; i++) {
		char c = d[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63)
				fuzz_fail("label of %zu octets in %s", label, d);
			if (d[i - 1] == '-' || d[i - label] == '-')
				fuzz_fail("label with a hyphen at an end in %s", d);
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			fuzz_fail("domain not in LDH normal form: %s", d);
		label++;
	}
	if (addr_domain(d, len, again, sizeof(again), &why) < 0)
		fuzz_fail("normalized domain %s refused: %s", d, why);
	if (strcmp(again, d) != 0)
		fuzz_fail("normalizing %s again gives %s", d, again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = fuzz_strndup(data, size), *raw = fuzz_memdup(data, size);
	char domain[LIMIT_DOMAIN + 1], addr[LIMIT_DOMAIN + 130], norm[LIMIT_DOMAIN + 1];
	struct addr_from af;
	const char *why;
	int n, na;

	memset(&af, 0, sizeof(af));
	n = addr_parse_from(value, &af);
	if (n < -1 || (n >= 0 && n != af.n))
		fuzz_fail("addr_parse_from returned %d, n %d", n, af.n);
	if (n == -1 && af.why == NULL)
		fuzz_fail("a field refused without a reason");
	if (n == 1)
		check_domain(af.domain);
	domain[0] = addr[0] = '\0';
	na = align_from(value, addr, sizeof(addr), domain, sizeof(domain));
	if (na != n)
		fuzz_fail("align_from counts %d, addr_parse_from %d", na, n);
	if (n == 1 && strcmp(domain, af.domain) != 0)
		fuzz_fail("align_from gives %s, addr_parse_from %s", domain, af.domain);
	if (addr_domain(raw, size, norm, sizeof(norm), &why) == 0)
		check_domain(norm);
	free(value);
	free(raw);
	return 0;
}
