/*
 * tagval.c - RFC 6376 tag=value list parser (see tagval.h).
 */
#include "config.h"

#include <string.h>

#include "tagval.h"

static int
is_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_namechar(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

int
tagval_parse(struct tagval *tv, const char *text, size_t len, const char **err)
{
	size_t i = 0, j;

	tv->n = 0;
	for (;;) {
		struct tagval_pair *p;
		size_t ns, ne, vs, ve;

		while (i < len && is_fws((unsigned char)text[i]))
			i++;
		if (i == len) {
			/* Trailing ";" is allowed; an entirely empty list is not. */
			if (tv->n == 0) {
				*err = "empty tag list";
				return -1;
			}
			return 0;
		}
		ns = i;
		if (!is_alpha((unsigned char)text[i])) {
			*err = text[i] == ';' ? "empty tag" : "bad tag name";
			return -1;
		}
		while (i < len && is_namechar((unsigned char)text[i]))
			i++;
		ne = i;
		while (i < len && is_fws((unsigned char)text[i]))
			i++;
		if (i == len || text[i] != '=') {
			*err = "tag without '='";
			return -1;
		}
		i++;
		while (i < len && is_fws((unsigned char)text[i]))
			i++;
		vs = i;
		while (i < len && text[i] != ';') {
			unsigned char c = (unsigned char)text[i];

			/* Control characters (NUL included) never appear in a value. */
			if (c < 0x20 && !is_fws(c)) {
				*err = "control character in tag value";
				return -1;
			}
			if (c == 0x7f) {
				*err = "control character in tag value";
				return -1;
			}
			i++;
		}
		ve = i;
		while (ve > vs && is_fws((unsigned char)text[ve - 1]))
			ve--;
		for (j = 0; j < tv->n; j++) {
			if (tv->pairs[j].nlen == ne - ns &&
			    memcmp(tv->pairs[j].name, text + ns, ne - ns) == 0) {
				*err = "duplicate tag";
				return -1;
			}
		}
		if (tv->n == LIMIT_TAGS) {
			*err = "too many tags";
			return -1;
		}
		p = &tv->pairs[tv->n++];
		p->name = text + ns;
		p->nlen = ne - ns;
		p->val = text + vs;
		p->vlen = ve - vs;
		p->val_off = vs;
		if (i == len)
			return 0;
		i++;	/* the ';' */
	}
}

const struct tagval_pair *
tagval_get(const struct tagval *tv, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i < tv->n; i++)
		if (tv->pairs[i].nlen == n && memcmp(tv->pairs[i].name, name, n) == 0)
			return &tv->pairs[i];
	return NULL;
}

long
tagval_compact(const struct tagval_pair *p, char *dst, size_t dstlen)
{
	size_t i, o = 0;

	for (i = 0; i < p->vlen; i++) {
		if (is_fws((unsigned char)p->val[i]))
			continue;
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = p->val[i];
	}
	if (dstlen > 0)
		dst[o] = '\0';
	return (long)o;
}

int
tagval_is(const struct tagval_pair *p, const char *s)
{
	size_t n = strlen(s);

	return p->vlen == n && memcmp(p->val, s, n) == 0;
}

int
tagval_list_has(const struct tagval_pair *p, const char *item)
{
	size_t i = 0, n = strlen(item);

	while (i <= p->vlen) {
		size_t s, e;

		while (i < p->vlen && is_fws((unsigned char)p->val[i]))
			i++;
		s = i;
		while (i < p->vlen && p->val[i] != ':')
			i++;
		e = i;
		while (e > s && is_fws((unsigned char)p->val[e - 1]))
			e--;
		if (e - s == n && memcmp(p->val + s, item, n) == 0)
			return 1;
		i++;
	}
	return 0;
}
