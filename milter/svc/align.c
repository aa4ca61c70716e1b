/*
 * align.c - organizational domains and alignment (see align.h); the From:
 * parser itself is addr.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "addr.h"
#include "align.h"
#include "buf.h"
#include "tagval.h"

struct align {
	psl_ctx_t *psl;
	int builtin;
};

struct align *
align_create(const char *psl_file)
{
	struct align *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	if (psl_file != NULL && *psl_file != '\0')
		a->psl = psl_load_file(psl_file);
	if (a->psl == NULL) {
		a->psl = (psl_ctx_t *)psl_builtin();
		a->builtin = 1;
	}
	if (a->psl == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void
align_free(struct align *a)
{
	if (a == NULL)
		return;
	if (!a->builtin)
		psl_free(a->psl);
	free(a);
}

const char *
align_psl_source(const struct align *a)
{
	return a->builtin ? "built-in" : "file";
}

int
align_from(const char *value, char *addr, size_t alen, char *domain, size_t dlen)
{
	struct addr_from af;
	int n = addr_parse_from(value, &af);

	if (n == 1) {
		str_copy(domain, af.domain, dlen);
		if (addr != NULL)
			snprintf(addr, alen, "%s@%s", af.local, af.domain);
	}
	return n;
}

int
align_org_domain(const struct align *a, const char *domain, char *out, size_t outlen)
{
	const char *rd = psl_registrable_domain(a->psl, domain);

	if (rd == NULL)
		return -1;
	str_copy(out, rd, outlen);
	return 0;
}

int
align_strict(const char *d, const char *from)
{
	size_t n = strlen(d);

	/* An absolute d= ("example.com.") names the same domain. */
	if (n > 0 && d[n - 1] == '.')
		n--;
	return strlen(from) == n && strncasecmp(d, from, n) == 0;
}

int
align_relaxed(const struct align *a, const char *d, const char *from)
{
	char od[LIMIT_DOMAIN + 1], of[LIMIT_DOMAIN + 1], dl[LIMIT_DOMAIN + 1];
	size_t i;

	if (align_strict(d, from))
		return 1;
	for (i = 0; d[i] != '\0' && i < LIMIT_DOMAIN; i++)
		dl[i] = (char)(d[i] >= 'A' && d[i] <= 'Z' ? d[i] + 32 : d[i]);
	dl[i] = '\0';
	if (i > 0 && dl[i - 1] == '.')
		dl[i - 1] = '\0';
	if (align_org_domain(a, dl, od, sizeof(od)) < 0 ||
	    align_org_domain(a, from, of, sizeof(of)) < 0)
		return 0;
	return strcmp(od, of) == 0;
}

int
align_dmarc_adkim(const char *txt, size_t len, char *adkim)
{
	struct tagval tv;
	const struct tagval_pair *p;
	const char *err;

	*adkim = 'r';
	if (tagval_parse(&tv, txt, len, &err) < 0 || tv.n == 0 ||
	    !(tv.pairs[0].nlen == 1 && tv.pairs[0].name[0] == 'v') ||
	    !tagval_is(&tv.pairs[0], "DMARC1"))
		return -1;
	if ((p = tagval_get(&tv, "adkim")) != NULL && tagval_is(p, "s"))
		*adkim = 's';
	return 0;
}
