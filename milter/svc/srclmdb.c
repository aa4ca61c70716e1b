/*
 * srclmdb.c - an LMDB map as a signing table (see srclmdb.h).
 *
 * MDB_NOTLS: lookups come from libmilter's worker threads, and a read
 * transaction is begun and ended per lookup, so reader slots must not be
 * tied to threads.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bounds.h"
#include "srclmdb.h"

struct srclmdb {
	MDB_env *env;
	MDB_dbi dbi;
};

static char *
lmdb_get(void *ctx, const char *pattern, size_t len)
{
	struct srclmdb *db = ctx;
	MDB_txn *txn;
	MDB_val k, v;
	char *out = NULL;

	if (mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn) != 0)
		return NULL;
	k.mv_size = len;
	k.mv_data = (void *)pattern;
	if (mdb_get(txn, db->dbi, &k, &v) == 0 && (out = malloc(v.mv_size + 1)) != NULL) {
		memcpy(out, v.mv_data, v.mv_size);
		out[v.mv_size] = '\0';
	}
	mdb_txn_abort(txn);
	return out;
}

static void
lmdb_free(void *ctx)
{
	struct srclmdb *db = ctx;

	if (db == NULL)
		return;
	if (db->env != NULL)
		mdb_env_close(db->env);
	free(db);
}

struct keyset *
srclmdb_open(const char *path, char *err, size_t errlen)
{
	struct keyset_backend b = { lmdb_get, lmdb_free, NULL };
	struct srclmdb *db = calloc(1, sizeof(*db));
	struct keyset *ks;
	MDB_txn *txn;
	int rc;

	if (db == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((rc = mdb_env_create(&db->env)) != 0 ||
	    (rc = mdb_env_open(db->env, path, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOTLS, 0)) != 0 ||
	    (rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn)) != 0) {
		snprintf(err, errlen, "LMDB map %s: %s", path, mdb_strerror(rc));
		lmdb_free(db);
		return NULL;
	}
	/* A handle opened in a transaction lives on only if that one commits. */
	if ((rc = mdb_dbi_open(txn, NULL, 0, &db->dbi)) == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0) {
		snprintf(err, errlen, "LMDB map %s: %s", path, mdb_strerror(rc));
		lmdb_free(db);
		return NULL;
	}
	b.ctx = db;
	if ((ks = keyset_create_backed(path, &b)) == NULL)
		snprintf(err, errlen, "out of memory");
	return ks;
}

unsigned long long
srclmdb_generation(const struct keyset *ks)
{
	const struct srclmdb *db = ks->backend.ctx;
	MDB_envinfo info;

	if (db == NULL || mdb_env_info(db->env, &info) != 0)
		return 0;
	return (unsigned long long)info.me_last_txnid;
}

int
srclmdb_snapshot(struct keyset *ks, struct buf *problems)
{
	const struct srclmdb *db = ks->backend.ctx;
	MDB_cursor *cur;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, db->dbi, &cur)) != 0) {
		if (rc != 0 && txn != NULL)
			mdb_txn_abort(txn);
		buf_report(problems, "%s: %s", ks->origin, mdb_strerror(rc));
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char pat[LIMIT_DOMAIN + 130], why[300], *val;

		if (k.mv_size >= sizeof(pat)) {
			buf_report(problems, "%s: a key of %zu bytes is too long for a pattern",
			    ks->origin, k.mv_size);
			continue;
		}
		memcpy(pat, k.mv_data, k.mv_size);
		pat[k.mv_size] = '\0';
		if ((val = strndup(v.mv_data, v.mv_size)) == NULL)
			break;
		if (keyset_add_value(ks, pat, val, why, sizeof(why)) < 0)
			buf_report(problems, "%s: '%s': %s", ks->origin, pat, why);
		free(val);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return 0;
}
