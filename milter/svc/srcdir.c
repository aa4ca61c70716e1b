/*
 * srcdir.c - a key directory as a key and signing table (see srcdir.h).
 *
 * The names are sorted (domain, then selector) so that the keys of a
 * domain are adjacent and their order does not depend on readdir.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "keycheck.h"
#include "srcdir.h"

struct name {
	char *domain, *selector;	/* domain owns the allocation */
};

static int
by_domain(const void *a, const void *b)
{
	const struct name *x = a, *y = b;
	int c = strcasecmp(x->domain, y->domain);

	return c != 0 ? c : strcmp(x->selector, y->selector);
}

/* Split "DOMAIN.SELECTOR.pem" in place; 0 when both parts are usable. */
static int
split(char *s, char **domain, char **selector)
{
	size_t n = strlen(s);
	char *dot;

	s[n - 4] = '\0';	/* ".pem" */
	if ((dot = strrchr(s, '.')) == NULL)
		return -1;
	*dot = '\0';
	*domain = s;
	*selector = dot + 1;
	return keycheck_name_ok(*domain) && keycheck_name_ok(*selector) &&
	    strchr(*domain, '.') != NULL ? 0 : -1;
}

static void
free_names(struct name *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].domain);
	free(v);
}

struct keyset *
srcdir_read(const char *dir, int subdomains, struct buf *problems, char *err,
    size_t errlen)
{
	struct name *v = NULL;
	size_t n = 0, cap = 0, i, j;
	struct keyset *ks;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "key directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *copy;

		if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".pem") != 0)
			continue;
		if (de->d_type == DT_DIR) {
			buf_report(problems, "%s/%s: a directory, not a key file", dir,
			    de->d_name);
			continue;
		}
		if (n == cap) {
			struct name *nv = realloc(v, (cap ? cap * 2 : 256) * sizeof(*v));

			if (nv == NULL)
				goto oom;
			v = nv;
			cap = cap ? cap * 2 : 256;
		}
		/* Only the name is kept while reading: 100,000 of them add up. */
		if ((copy = strdup(de->d_name)) == NULL)
			goto oom;
		if (split(copy, &v[n].domain, &v[n].selector) < 0) {
			buf_report(problems, "%s/%s: not named DOMAIN.SELECTOR.pem (a domain with "
			    "a dot, a selector, letters, digits, '-' and '_')", dir, de->d_name);
			free(copy);
			continue;
		}
		n++;
	}
	if (errno != 0) {
		snprintf(err, errlen, "key directory %s: %s", dir, strerror(errno));
		closedir(d);
		free_names(v, n);
		return NULL;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), by_domain);
	/* Each domain one entry (two with subdomains); most have one key. */
	if ((ks = keyset_create(dir)) == NULL)
		goto oom2;
	if (keyset_reserve(ks, n, subdomains ? 2 * n : n) < 0)
		goto oom3;
	for (i = 0; i < n; i = j) {
		long e, k, e2 = -1;
		char wild[LIMIT_DOMAIN + 3];
		int first;

		if ((e = keyset_add_entry(ks, v[i].domain, 0, &first)) < 0)
			goto oom3;
		if (subdomains && snprintf(wild, sizeof(wild), "*.%s", v[i].domain) <
		    (int)sizeof(wild) && (e2 = keyset_add_entry(ks, wild, 0, &first)) == -1)
			goto oom3;
		for (j = i; j < n && strcasecmp(v[j].domain, v[i].domain) == 0; j++) {
			char id[2 * LIMIT_DOMAIN + 2], why[300], *path;

			snprintf(id, sizeof(id), "%s.%s", v[j].domain, v[j].selector);
			if (j - i >= LIMIT_SIGNERS) {
				buf_report(problems, "%s/%s.pem: more than %d keys for %s; not used",
				    dir, id, LIMIT_SIGNERS, v[i].domain);
				continue;
			}
			if ((path = malloc(strlen(dir) + strlen(id) + 6)) == NULL)
				goto oom3;
			snprintf(path, strlen(dir) + strlen(id) + 6, "%s/%s.pem", dir, id);
			k = keyset_add_key(ks, id, v[j].domain, v[j].selector, path, 0, why,
			    sizeof(why));
			if (k < 0) {
				/* Only two names differing in case can collide. */
				buf_report(problems, "%s: %s", path, why);
				free(path);
				continue;
			}
			free(path);
			if (keyset_entry_add_key(ks, (size_t)e, (size_t)k) < 0 ||
			    (e2 >= 0 && keyset_entry_add_key(ks, (size_t)e2, (size_t)k) < 0))
				goto oom3;
		}
	}
	free_names(v, n);
	return ks;
oom3:
	keyset_unref(ks);
oom2:
	free_names(v, n);
	snprintf(err, errlen, "key directory %s: out of memory", dir);
	return NULL;
oom:
	closedir(d);
	free_names(v, n);
	snprintf(err, errlen, "key directory %s: out of memory", dir);
	return NULL;
}
