/*
 * privcache.c - bounded cache of decoded private keys (see privcache.h).
 *
 * Chained hash on the path, a doubly-linked list in use order for
 * eviction, one mutex. Keys are decoded outside the lock, so one slow file
 * does not hold up signing for every other domain; when two threads decode
 * the same file at once the first to finish wins and the other's copy is
 * dropped.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bounds.h"
#include "buf.h"
#include "fnv.h"
#include "privcache.h"
#include "keyfile.h"

struct stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	long long mtime_ns;
	int err;		/* errno of a failed stat, 0 when it worked */
	int allow;		/* allow_readable it was judged with */
};

struct entry {
	struct entry *hnext;		/* hash chain */
	struct entry *prev, *next;	/* use order, most recent first */
	char *path;
	uint32_t hash;
	struct stamp st;
	struct crypto_key *key;		/* NULL: failed, reason in err */
	char err[300];
};

struct privcache {
	int refs;
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t nbuckets, count, max;
	struct entry *head, *tail;
};

static uint32_t
hash_of(const char *s)
{
	return fnv1a(s, strlen(s), 0);
}

struct privcache *
privcache_create(size_t max)
{
	struct privcache *pc = calloc(1, sizeof(*pc));

	if (pc == NULL)
		return NULL;
	pc->refs = 1;
	pc->max = max ? max : 1;
	for (pc->nbuckets = 64; pc->nbuckets < pc->max; pc->nbuckets *= 2)
		;
	if ((pc->buckets = calloc(pc->nbuckets, sizeof(*pc->buckets))) == NULL) {
		free(pc);
		return NULL;
	}
	pthread_mutex_init(&pc->lock, NULL);
	return pc;
}

struct privcache *
privcache_ref(struct privcache *pc)
{
	if (pc != NULL)
		__atomic_add_fetch(&pc->refs, 1, __ATOMIC_SEQ_CST);
	return pc;
}

static void
entry_free(struct entry *e)
{
	crypto_key_unref(e->key);
	free(e->path);
	free(e);
}

void
privcache_unref(struct privcache *pc)
{
	struct entry *e, *n;

	if (pc == NULL || __atomic_sub_fetch(&pc->refs, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	for (e = pc->head; e != NULL; e = n) {
		n = e->next;
		entry_free(e);
	}
	pthread_mutex_destroy(&pc->lock);
	free(pc->buckets);
	free(pc);
}

size_t
privcache_max(const struct privcache *pc)
{
	return pc->max;
}

size_t
privcache_count(struct privcache *pc)
{
	size_t n;

	pthread_mutex_lock(&pc->lock);
	n = pc->count;
	pthread_mutex_unlock(&pc->lock);
	return n;
}

static void
stamp_of(const char *path, struct stamp *st, struct stat *sb)
{
	memset(st, 0, sizeof(*st));
	if (stat(path, sb) < 0) {
		st->err = errno ? errno : EIO;
		return;
	}
	st->dev = sb->st_dev;
	st->ino = sb->st_ino;
	st->size = sb->st_size;
	st->mtime_ns = (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

static int
stamp_eq(const struct stamp *a, const struct stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && a->err == b->err && a->allow == b->allow;
}

/* Under the lock. */
static void
unlink_use(struct privcache *pc, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		pc->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		pc->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
push_front(struct privcache *pc, struct entry *e)
{
	e->next = pc->head;
	e->prev = NULL;
	if (pc->head)
		pc->head->prev = e;
	pc->head = e;
	if (pc->tail == NULL)
		pc->tail = e;
}

static struct entry *
find(struct privcache *pc, const char *path, uint32_t h)
{
	struct entry *e;

	for (e = pc->buckets[h & (pc->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

static void
remove_entry(struct privcache *pc, struct entry *e)
{
	struct entry **pp = &pc->buckets[e->hash & (pc->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	unlink_use(pc, e);
	pc->count--;
	entry_free(e);
}

/* The decoded key, or NULL with the reason in err. No lock held. */
static struct crypto_key *
decode(const char *path, const struct stamp *st, mode_t mode, int allow_readable,
    char *err, size_t errlen)
{
	struct crypto_key *k = NULL;

	if (st->err != 0) {
		snprintf(err, errlen, "key file %s: %s", path, strerror(st->err));
		return NULL;
	}
	if ((mode & 077) != 0 && !allow_readable) {
		snprintf(err, errlen, "key file %s is readable by group or others (mode %04o): "
		    "chmod 600 it, or set allow_readable_keys = true", path,
		    (unsigned)(mode & 07777));
		return NULL;
	}
	if (keyfile_load_private(path, &k, err, errlen) < 0)
		return NULL;
	if (crypto_key_too_small(k)) {
		snprintf(err, errlen, "key file %s is RSA %d bits: below %d it cannot sign "
		    "(RFC 8301)", path, crypto_key_bits(k), LIMIT_RSA_MIN_BITS);
		crypto_key_unref(k);
		return NULL;
	}
	return k;
}

struct crypto_key *
privcache_get(struct privcache *pc, const char *path, int allow_readable, char *err,
    size_t errlen, int *fresh)
{
	uint32_t h = hash_of(path);
	struct stamp st;
	struct stat sb;
	struct entry *e, *ne;
	struct crypto_key *k;
	char why[300];

	*fresh = 0;
	memset(&sb, 0, sizeof(sb));
	stamp_of(path, &st, &sb);
	st.allow = allow_readable != 0;
	pthread_mutex_lock(&pc->lock);
	if ((e = find(pc, path, h)) != NULL && stamp_eq(&e->st, &st)) {
		unlink_use(pc, e);
		push_front(pc, e);
		k = crypto_key_ref(e->key);
		if (k == NULL)
			str_copy(err, e->err, errlen);
		pthread_mutex_unlock(&pc->lock);
		return k;
	}
	pthread_mutex_unlock(&pc->lock);

	why[0] = '\0';
	k = decode(path, &st, sb.st_mode, allow_readable, why, sizeof(why));
	if ((ne = calloc(1, sizeof(*ne))) == NULL || (ne->path = strdup(path)) == NULL) {
		free(ne);
		if (k == NULL)
			str_copy(err, why, errlen);
		return k;	/* not cached: works, only slower */
	}
	ne->hash = h;
	ne->st = st;
	ne->key = crypto_key_ref(k);
	str_copy(ne->err, why, sizeof(ne->err));

	pthread_mutex_lock(&pc->lock);
	if ((e = find(pc, path, h)) != NULL) {
		if (stamp_eq(&e->st, &st)) {
			/* Another thread got there first: theirs stays. */
			unlink_use(pc, e);
			push_front(pc, e);
			pthread_mutex_unlock(&pc->lock);
			entry_free(ne);
			if (k == NULL)
				str_copy(err, why, errlen);
			return k;
		}
		/* A failure reported once per version of the file. */
		*fresh = k == NULL && (e->key != NULL || strcmp(e->err, why) != 0);
		remove_entry(pc, e);
	} else
		*fresh = k == NULL;
	while (pc->count >= pc->max && pc->tail != NULL)
		remove_entry(pc, pc->tail);
	ne->hnext = pc->buckets[h & (pc->nbuckets - 1)];
	pc->buckets[h & (pc->nbuckets - 1)] = ne;
	push_front(pc, ne);
	pc->count++;
	pthread_mutex_unlock(&pc->lock);
	if (k == NULL)
		str_copy(err, why, errlen);
	return k;
}
