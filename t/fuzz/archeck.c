/*
 * archeck.c - the structure every Authentication-Results field dkimgate
 * writes must have, whatever the message said (see fuzz.h):
 *
 *  - it is "Authentication-Results: " followed by the value;
 *  - every byte is printable ASCII, SP or TAB, except CR LF pairs that are
 *    followed by SP or TAB (folding): nothing can end the field early or
 *    start another one;
 *  - quoted strings are closed, comments are balanced (they nest), and a
 *    backslash inside either escapes exactly one following character;
 *  - outside quoted strings and comments there is exactly one ';' per
 *    result, each followed by folding white space and a method name
 *    ("dkim" or "dkim-alignment") and '=': a value cannot add a result or
 *    swallow one (nresults (size_t)-1: any number).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz.h"

#define AR_NAME "Authentication-Results: "

static int
fail(char *why, size_t whylen, const char *what, size_t at)
{
	snprintf(why, whylen, "%s at offset %zu", what, at);
	return -1;
}

int
fuzz_check_authres(const char *f, size_t len, size_t nresults, char *why, size_t whylen)
{
	size_t i, semis = 0, depth = 0;
	int inq = 0;

	if (len < sizeof(AR_NAME) - 1 || memcmp(f, AR_NAME, sizeof(AR_NAME) - 1) != 0)
		return fail(why, whylen, "field name missing", 0);
	if (strlen(f) != len)
		return fail(why, whylen, "NUL inside the field", strlen(f));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c == '\r') {
			if (i + 2 >= len || f[i + 1] != '\n' || (f[i + 2] != ' ' && f[i + 2] != '\t'))
				return fail(why, whylen, "CR or LF outside folding", i);
			i++;
			continue;
		}
		if (c == '\n')
			return fail(why, whylen, "bare LF", i);
		if (c != '\t' && (c < 0x20 || c > 0x7e))
			return fail(why, whylen, "control or non-ASCII byte", i);
		if (inq || depth > 0) {
			if (c == '\\') {
				if (i + 1 >= len || f[i + 1] == '\r')
					return fail(why, whylen, "backslash escapes nothing", i);
				i++;
			} else if (inq && c == '"')
				inq = 0;
			else if (!inq && c == '(')
				depth++;
			else if (!inq && c == ')')
				depth--;
			continue;
		}
		if (c == '"')
			inq = 1;
		else if (c == '(')
			depth = 1;
		else if (c == ')')
			return fail(why, whylen, "')' outside a comment", i);
		else if (c == ';') {
			const char *m = f + i + 1;

			semis++;
			if (strncmp(m, "\r\n\t", 3) != 0)
				return fail(why, whylen, "';' not followed by folding", i);
			m += 3;
			if (strncmp(m, "dkim=", 5) != 0 && strncmp(m, "dkim-alignment=", 15) != 0)
				return fail(why, whylen, "result without a method", i);
		}
	}
	if (inq)
		return fail(why, whylen, "unterminated quoted string", len);
	if (depth > 0)
		return fail(why, whylen, "unbalanced comment", len);
	if (nresults != (size_t)-1 && semis != nresults) {
		snprintf(why, whylen, "%zu results separated, %zu written", semis, nresults);
		return -1;
	}
	return 0;
}
