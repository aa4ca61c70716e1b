/*
 * sources.c - key tables outside dkimgate.conf, and change detection
 * (see sources.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "sources.h"
#include "srcdir.h"
#include "srcodk.h"
#include "srclmdb.h"
#include "keyfile.h"

static void
err_at(struct buf *errors, const char *file, const config_setting_t *s, int *nerr,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
err_at(struct buf *errors, const char *file, const config_setting_t *s, int *nerr,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vreport_at(errors, file, s ? (int)config_setting_source_line(s) : 0, fmt, ap);
	va_end(ap);
	(*nerr)++;
}

static void
stamp_one(const char *path, struct source_stamp *st, int i)
{
	struct stat sb;

	st->dev[i] = st->ino[i] = st->size[i] = st->mtime_ns[i] = -1;
	if (path == NULL || stat(path, &sb) < 0)
		return;
	st->dev[i] = (long long)sb.st_dev;
	st->ino[i] = (long long)sb.st_ino;
	st->size[i] = (long long)sb.st_size;
	st->mtime_ns[i] = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
}

static void
stamp_of(const struct source *src, struct source_stamp *st)
{
	stamp_one(src->path, st, 0);
	stamp_one(src->path2, st, 1);
	/* Every write changes an LMDB file; its generation says more (below). */
	if (src->type == SOURCE_LMDB)
		st->size[0] = st->mtime_ns[0] = -1;
}

static int
same_spec(const struct source *a, const struct source *b)
{
	return a->type == b->type && strcmp(a->path, b->path) == 0 &&
	    (a->path2 == NULL) == (b->path2 == NULL) &&
	    (a->path2 == NULL || strcmp(a->path2, b->path2) == 0) &&
	    a->refile == b->refile && a->subdomains == b->subdomains;
}

/* Every key of ks decoded once, for dkimgate -n; failures are problems. */
static void
decode_all(const struct keyset *ks, struct buf *problems)
{
	size_t i;

	for (i = 0; i < ks->nkeys; i++) {
		struct crypto_key *k = NULL;
		char err[512];

		if (keyfile_load_private(ks->keys[i].path, &k, err, sizeof(err)) < 0)
			buf_report(problems, "%s:%d: key '%s': %s", ks->origin,
			    ks->keys[i].line, ks->keys[i].id, err);
		else if (crypto_key_too_small(k))
			buf_report(problems, "%s:%d: key '%s' is RSA %d bits: below %d it "
			    "cannot sign (RFC 8301)", ks->origin, ks->keys[i].line,
			    ks->keys[i].id, crypto_key_bits(k), LIMIT_RSA_MIN_BITS);
		crypto_key_unref(k);
	}
}

/* Parse one entry of the list into src; 0, or -1 after reporting. */
static int
parse_entry(const char *file, config_setting_t *e, struct source *src, struct buf *errors,
    int *nerr)
{
	const char *type = NULL, *path = NULL, *kt = NULL, *st = NULL, *watch = NULL;
	int sub = 0;

	memset(src, 0, sizeof(*src));
	src->line = (int)config_setting_source_line(e);
	if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
		err_at(errors, file, e, nerr, "a sources entry must be a group { ... }");
		return -1;
	}
	config_setting_lookup_string(e, "type", &type);
	config_setting_lookup_string(e, "path", &path);
	config_setting_lookup_string(e, "key_table", &kt);
	config_setting_lookup_string(e, "signing_table", &st);
	config_setting_lookup_string(e, "watch", &watch);
	config_setting_lookup_bool(e, "subdomains", &sub);
	if (type != NULL && strcmp(type, "directory") == 0) {
		src->type = SOURCE_DIRECTORY;
		if (path == NULL || kt != NULL || st != NULL) {
			err_at(errors, file, e, nerr, "a directory source takes path = \"...\"");
			return -1;
		}
		src->path = strdup(path);
		src->subdomains = sub;
		src->watch = SOURCE_WATCH_INOTIFY;
	} else if (type != NULL && strcmp(type, "opendkim") == 0) {
		src->type = SOURCE_OPENDKIM;
		if (kt == NULL || st == NULL || path != NULL) {
			err_at(errors, file, e, nerr, "an opendkim source takes key_table = "
			    "\"...\" and signing_table = \"...\"");
			return -1;
		}
		if (strncmp(kt, "file:", 5) == 0)
			kt += 5;
		if (strncmp(st, "refile:", 7) == 0) {
			src->refile = 1;
			st += 7;
		} else if (strncmp(st, "file:", 5) == 0)
			st += 5;
		if (strchr(kt, ':') != NULL || strchr(st, ':') != NULL) {
			err_at(errors, file, e, nerr, "opendkim tables must be plain files "
			    "(file:PATH or refile:PATH); dataset types such as db: or dsn: are "
			    "not read");
			return -1;
		}
		src->path = strdup(kt);
		src->path2 = strdup(st);
		src->watch = SOURCE_WATCH_OFF;
	} else if (type != NULL && strcmp(type, "lmdb") == 0) {
		src->type = SOURCE_LMDB;
		if (path == NULL || kt != NULL || st != NULL) {
			err_at(errors, file, e, nerr, "an lmdb source takes path = \"...\"");
			return -1;
		}
		src->path = strdup(path);
		src->watch = SOURCE_WATCH_SCAN;
	} else {
		err_at(errors, file, e, nerr, "sources: type must be \"directory\", "
		    "\"opendkim\" or \"lmdb\"");
		return -1;
	}
	if (watch != NULL) {
		if (strcmp(watch, "off") == 0)
			src->watch = SOURCE_WATCH_OFF;
		else if (strcmp(watch, "inotify") == 0)
			src->watch = SOURCE_WATCH_INOTIFY;
		else if (strcmp(watch, "scan") == 0)
			src->watch = SOURCE_WATCH_SCAN;
		else {
			err_at(errors, file, e, nerr, "sources: watch must be \"inotify\", "
			    "\"scan\" or \"off\"");
			return -1;
		}
	}
	if (src->path == NULL || (src->type == SOURCE_OPENDKIM && src->path2 == NULL)) {
		err_at(errors, file, e, nerr, "out of memory");
		return -1;
	}
	return 0;
}

/* The running configuration's keyset for src, when it is unchanged. */
static struct keyset *
reusable(const struct conf *prev, struct source *src)
{
	size_t i;

	for (i = 0; prev != NULL && i < prev->nsources; i++) {
		const struct source *p = &prev->sources[i];

		if (!same_spec(p, src) || memcmp(&p->stamp, &src->stamp, sizeof(p->stamp)) != 0)
			continue;
		if (p->type == SOURCE_LMDB && srclmdb_generation(p->set) != p->gen)
			continue;
		src->gen = p->gen;
		return keyset_ref(p->set);
	}
	return NULL;
}

int
sources_load(const char *file, config_setting_t *s, struct conf *c, const struct conf *prev,
    enum conf_keys keys, struct buf *errors, struct buf *problems)
{
	int nerr = 0, i, n;
	struct keyset **sets;

	if (s == NULL)
		return 0;
	if (!config_setting_is_list(s)) {
		err_at(errors, file, s, &nerr, "sources must be a list ( { ... }, ... )");
		return nerr;
	}
	n = config_setting_length(s);
	if ((c->sources = calloc((size_t)n + 1, sizeof(*c->sources))) == NULL ||
	    (sets = realloc(c->sets, (c->nsets + (size_t)n) * sizeof(*c->sets))) == NULL) {
		err_at(errors, file, s, &nerr, "out of memory");
		return nerr;
	}
	c->sets = sets;
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct source *src = &c->sources[c->nsources];
		char err[512];

		if (parse_entry(file, e, src, errors, &nerr) < 0) {
			free(src->path);
			free(src->path2);
			memset(src, 0, sizeof(*src));
			continue;
		}
		c->nsources++;
		/* Stamp before reading: a change while reading is seen next time. */
		stamp_of(src, &src->stamp);
		if ((src->set = reusable(prev, src)) == NULL) {
			if (src->type == SOURCE_DIRECTORY)
				src->set = srcdir_read(src->path, src->subdomains, problems, err,
				    sizeof(err));
			else if (src->type == SOURCE_OPENDKIM)
				src->set = srcodk_read(src->path, src->path2, src->refile,
				    problems, NULL, err, sizeof(err));
			else
				src->set = srclmdb_open(src->path, err, sizeof(err));
			if (src->set == NULL) {
				err_at(errors, file, e, &nerr, "%s", err);
				continue;
			}
			if (src->type == SOURCE_LMDB) {
				src->gen = srclmdb_generation(src->set);
				/* Tools that go through every key need them listed. */
				if (keys != CONF_KEYS_CHECK)
					srclmdb_snapshot(src->set, problems);
			}
			if (keys == CONF_KEYS_DECODE)
				decode_all(src->set, problems);
		}
		c->sets[c->nsets++] = keyset_ref(src->set);
	}
	return nerr;
}

void
sources_free(struct source *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].path2);
		keyset_unref(v[i].set);
	}
	free(v);
}

int
sources_changed(const struct conf *c)
{
	struct source_stamp now;
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		stamp_of(&c->sources[i], &now);
		if (memcmp(&now, &c->sources[i].stamp, sizeof(now)) != 0)
			return 1;
		if (c->sources[i].type == SOURCE_LMDB &&
		    srclmdb_generation(c->sources[i].set) != c->sources[i].gen)
			return 1;
	}
	return 0;
}

int
sources_scanned(const struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i].watch == SOURCE_WATCH_SCAN)
			return 1;
	return 0;
}

struct srcwatch {
	int fd;
};

struct srcwatch *
srcwatch_create(void)
{
	struct srcwatch *w = calloc(1, sizeof(*w));

	if (w != NULL)
		w->fd = -1;
	return w;
}

void
srcwatch_free(struct srcwatch *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

/* The directory to watch for path: itself for a directory, else its parent. */
static int
watch_dir(int fd, const char *path, int is_dir, char *err, size_t errlen)
{
	/* Files are replaced by rename as often as rewritten: watch the directory. */
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
	    IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
	char dir[4096];
	const char *slash;

	if (is_dir)
		str_copy(dir, path, sizeof(dir));
	else if ((slash = strrchr(path, '/')) == NULL)
		str_copy(dir, ".", sizeof(dir));
	else if (slash == path)
		str_copy(dir, "/", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (inotify_add_watch(fd, dir, mask) < 0) {
		snprintf(err, errlen, "cannot watch %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
srcwatch_set(struct srcwatch *w, const struct conf *c, char *err, size_t errlen)
{
	size_t i;
	int rc = 0;

	/* A fresh descriptor drops every earlier watch at once. */
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	for (i = 0; i < c->nsources; i++) {
		const struct source *src = &c->sources[i];

		if (src->watch != SOURCE_WATCH_INOTIFY)
			continue;
		if (w->fd < 0 && (w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
			snprintf(err, errlen, "inotify: %s", strerror(errno));
			return -1;
		}
		if (watch_dir(w->fd, src->path, src->type == SOURCE_DIRECTORY, err, errlen) < 0)
			rc = -1;
		if (src->path2 != NULL && watch_dir(w->fd, src->path2, 0, err, errlen) < 0)
			rc = -1;
	}
	return rc;
}

int
srcwatch_fd(const struct srcwatch *w)
{
	return w->fd;
}

int
srcwatch_drain(struct srcwatch *w)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int any = 0;

	while (w->fd >= 0 && read(w->fd, ev, sizeof(ev)) > 0)
		any = 1;
	return any;
}
