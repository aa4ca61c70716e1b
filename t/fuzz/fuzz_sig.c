/*
 * fuzz_sig.c - DKIM-Signature field parsing (sig_parse).
 *
 * Input: one header field, "DKIM-Signature: ..." with its folds. Properties:
 * no memory error; the reason is a terminated string; a signature accepted
 * as usable names a domain and a selector, signs From:, has a b= span inside
 * the field and a signature value, and its l=/t=/x= are not negative.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig sg;
	char *field = fuzz_memdup(data, size), reason[LIMIT_REASON];
	enum dkim_status st;
	size_t i;
	int from = 0;

	memset(&sg, 0, sizeof(sg));
	memset(reason, 'x', sizeof(reason));
	st = sig_parse(&sg, field, size, FUZZ_NOW, reason, sizeof(reason));
	if (st != DKIM_PASS && memchr(reason, '\0', sizeof(reason)) == NULL)
		fuzz_fail("reason not terminated");
	(void)sig_is_dkim_field(field, size);
	if (st == DKIM_PASS) {
		if (sg.d[0] == '\0' || sg.s[0] == '\0')
			fuzz_fail("usable signature without d= or s=");
		for (i = 0; i < sg.nh; i++)
			if (strcmp(sg.hnames[i], "from") == 0)
				from = 1;
		if (!from)
			fuzz_fail("usable signature that does not sign From:");
		if (sg.b_start > sg.b_end || sg.b_end > sg.field_len || sg.blen == 0 ||
		    sg.blen > sizeof(sg.b) || sg.bhlen == 0 || sg.bhlen > sizeof(sg.bh))
			fuzz_fail("usable signature with bad b= or bh= bounds");
		if (sg.l < -1 || sg.t < -1 || sg.x < -1)
			fuzz_fail("negative l=, t= or x=");
		if (sg.alg == SIG_ALG_UNKNOWN)
			fuzz_fail("usable signature with an unknown algorithm");
	} else if (st != DKIM_PERMERROR && st != DKIM_TEMPERROR)
		fuzz_fail("sig_parse returned %d", (int)st);
	sig_free(&sg);
	free(field);
	return 0;
}
