/*
 * keywatch.c - key checks against DNS and gap-free rotation (see keywatch.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keycheck.h"
#include "keywatch.h"
#include "log.h"
#include "metrics.h"
#include "keyfile.h"

/* Record the first switch to a successor; later switches keep that time. */
static void
record_switch(const struct conf *c, const struct conf_key *k, time_t now)
{
	char path[4096], line[32];
	int fd, n;

	if (keycheck_state_path(c->state_dir, k->id, k->succ_selector, path,
	    sizeof(path)) < 0)
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		if (errno != EEXIST)
			log_msg(LOG_WARNING, "warning event=rotate key=%s reason=\"cannot "
			    "record the switch in %s: %s\"", k->id, path, strerror(errno));
		return;
	}
	n = snprintf(line, sizeof(line), "%lld\n", (long long)now);
	if (write(fd, line, (size_t)n) != n)
		log_msg(LOG_WARNING, "warning event=rotate key=%s reason=\"cannot write %s\"",
		    k->id, path);
	close(fd);
}

int
keywatch_uses_successor(const struct snap *s, size_t k)
{
	return s->succ_active != NULL &&
	    __atomic_load_n(&s->succ_active[k], __ATOMIC_ACQUIRE) != 0;
}

/* Decide key k's successor; logs only when the state changes or told to. */
static void
decide_successor(struct snap *s, size_t k, time_t now, int verbose)
{
	const struct conf_key *key = &s->conf->keys[k];
	enum keycheck_pub pub;
	char why[300];

	if (key->succ_selector == NULL || key->succ_key == NULL ||
	    keywatch_uses_successor(s, k))
		return;
	if (key->succ_after > 0 && (long long)now < key->succ_after) {
		if (verbose)
			log_msg(LOG_INFO, "rotate key=%s selector=%s successor=%s state=waiting "
			    "reason=\"planned switch time not reached\" after=%lld", key->id,
			    key->selector, key->succ_selector, key->succ_after);
		return;
	}
	pub = keycheck_published(s->dns, key->domain, key->succ_selector, key->succ_key,
	    why, sizeof(why));
	if (pub == KEYCHECK_PUB_YES) {
		__atomic_store_n(&s->succ_active[k], 1, __ATOMIC_RELEASE);
		metrics_keys_rotation(key->id, MRO_WAITING, MRO_SWITCHED);
		record_switch(s->conf, key, now);
		log_msg(LOG_NOTICE, "rotate key=%s domain=%s selector=%s successor=%s "
		    "state=switched reason=\"successor key published and matching\"", key->id,
		    key->domain, key->selector, key->succ_selector);
		return;
	}
	if (verbose || s->succ_logged == NULL || !s->succ_logged[k]) {
		log_msg(LOG_WARNING, "rotate key=%s domain=%s selector=%s successor=%s "
		    "state=waiting reason=\"%s; still signing with %s\"", key->id, key->domain,
		    key->selector, key->succ_selector, why, key->selector);
		if (s->succ_logged != NULL)
			s->succ_logged[k] = 1;
	}
}

/* What a finished check says of the key, for the key-state gauges. */
static enum metrics_keystate
key_state(const struct keycheck *kc)
{
	size_t i;

	if (kc->published == KEYCHECK_PUB_YES)
		return MKS_OK;
	if (kc->published == KEYCHECK_PUB_UNKNOWN)
		return MKS_UNKNOWN;	/* DNS did not answer */
	for (i = 0; i < kc->n; i++)
		if (strcmp(kc->findings[i].code, "record-nxdomain") == 0 ||
		    strcmp(kc->findings[i].code, "record-nodata") == 0 ||
		    strcmp(kc->findings[i].code, "cname-dangling") == 0)
			return MKS_MISSING;
	return MKS_MISMATCH;	/* a record, but not one holding this key */
}

/*
 * The state of the checks of one snapshot's keys: every key of every set
 * that lists its keys (dkimgate.conf, key directories, OpenDKIM tables),
 * in order. Written by the one thread that checks, read by anyone.
 */
struct keywatch_scan {
	const struct conf_key **keys;
	size_t nkeys;
	unsigned char *state;		/* enum metrics_keystate, atomic */
	size_t checked, ok, missing, mismatching, unknown;	/* atomic */
	int done, stop;			/* atomic */
};

void
keywatch_scan_free(struct keywatch_scan *sc)
{
	if (sc == NULL)
		return;
	free(sc->keys);
	free(sc->state);
	free(sc);
}

/* The scan state of s, made on first use (main thread, before any checker). */
static struct keywatch_scan *
scan_of(struct snap *s)
{
	const struct conf *c = s->conf;
	struct keywatch_scan *sc;
	size_t i, k, n = conf_nkeys_all(c);

	if (s->scan != NULL)
		return s->scan;
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->keys = calloc(n + 1, sizeof(*sc->keys))) == NULL ||
	    (sc->state = malloc(n + 1)) == NULL) {
		keywatch_scan_free(sc);
		return NULL;
	}
	for (i = 0; i < c->nsets; i++)
		for (k = 0; k < c->sets[i]->nkeys; k++)
			sc->keys[sc->nkeys++] = &c->sets[i]->keys[k];
	memset(sc->state, MKS_UNCHECKED, n + 1);
	s->scan = sc;
	s->scan_free = keywatch_scan_free;
	return sc;
}

/* Hand the key states and rotation states of s to the metrics. */
static void
publish_states(const struct snap *s)
{
	const struct conf *c = s->conf;
	const struct keywatch_scan *sc = s->scan;
	struct metrics_keys *mk = metrics_keys_create((size_t)c->metrics_keys);
	size_t k;

	if (mk == NULL || sc == NULL) {
		metrics_keys_free(mk);
		return;
	}
	for (k = 0; k < sc->nkeys; k++) {
		const struct conf_key *key = sc->keys[k];

		metrics_keys_add(mk, key->id,
		    (enum metrics_keystate)__atomic_load_n(&sc->state[k], __ATOMIC_ACQUIRE),
		    key->succ_selector == NULL || key->slot < 0 ? MRO_NONE :
		    keywatch_uses_successor(s, (size_t)key->slot) ? MRO_SWITCHED : MRO_WAITING);
	}
	metrics_keys_publish(mk);
}

void
keywatch_results(const struct snap *s, keywatch_state_fn fn, void *arg,
    struct keywatch_counts *out)
{
	const struct keywatch_scan *sc = s->scan;
	size_t k;

	memset(out, 0, sizeof(*out));
	if (sc == NULL) {
		out->keys = conf_nkeys_all(s->conf);
		return;
	}
	out->keys = sc->nkeys;
	out->checked = __atomic_load_n(&sc->checked, __ATOMIC_ACQUIRE);
	out->ok = __atomic_load_n(&sc->ok, __ATOMIC_ACQUIRE);
	out->missing = __atomic_load_n(&sc->missing, __ATOMIC_ACQUIRE);
	out->mismatching = __atomic_load_n(&sc->mismatching, __ATOMIC_ACQUIRE);
	out->unknown = __atomic_load_n(&sc->unknown, __ATOMIC_ACQUIRE);
	out->done = __atomic_load_n(&sc->done, __ATOMIC_ACQUIRE);
	for (k = 0; fn != NULL && k < sc->nkeys; k++)
		fn(arg, sc->keys[k],
		    (enum metrics_keystate)__atomic_load_n(&sc->state[k], __ATOMIC_ACQUIRE));
}

/*
 * Check key k of the scan as a receiver would, logging each problem; its
 * state is recorded. The private key is decoded for the comparison but
 * not put in the signing cache: a full pass must not push out the keys
 * that sign.
 */
static enum metrics_keystate
check_one(struct snap *s, struct keywatch_scan *sc, size_t k)
{
	const struct conf *c = s->conf;
	const struct conf_key *key = sc->keys[k];
	struct crypto_key *priv = crypto_key_ref(key->key);
	enum metrics_keystate st;
	struct keycheck *kc;
	char err[512];
	size_t i;

	if ((kc = keycheck_create(key->domain, key->selector)) == NULL)
		return MKS_UNKNOWN;
	if (priv == NULL && keyfile_load_private(key->path, &priv, err, sizeof(err)) < 0) {
		priv = NULL;
		keycheck_add(kc, KEYCHECK_FAIL, "key-file", NULL, "%s", err);
	}
	keycheck_run(kc, s->dns, priv, c->trust_anchor[0] != '\0');
	crypto_key_unref(priv);
	for (i = 0; i < kc->n; i++) {
		const struct keycheck_finding *f = &kc->findings[i];

		if (f->verdict == KEYCHECK_OK)
			continue;
		log_msg(f->verdict == KEYCHECK_FAIL ? LOG_ERR : LOG_WARNING,
		    "%s event=keycheck key=%s name=%s code=%s reason=\"%s\" fix=\"%s\"",
		    f->verdict == KEYCHECK_FAIL ? "error" : "warning", key->id, kc->name,
		    f->code, f->msg, f->fix);
	}
	st = key_state(kc);
	if (st == MKS_OK)
		log_msg(LOG_INFO, "keycheck key=%s name=%s state=published dnssec=%s",
		    key->id, kc->name, kc->dnssec ? kc->dnssec : "-");
	keycheck_free(kc);
	__atomic_store_n(&sc->state[k], (unsigned char)st, __ATOMIC_RELEASE);
	__atomic_add_fetch(st == MKS_OK ? &sc->ok : st == MKS_MISSING ? &sc->missing :
	    st == MKS_MISMATCH ? &sc->mismatching : &sc->unknown, 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&sc->checked, 1, __ATOMIC_ACQ_REL);
	return st;
}

static void
log_summary(const struct keywatch_scan *sc, double secs)
{
	log_msg(LOG_NOTICE, "keycheck summary keys=%zu checked=%zu ok=%zu missing=%zu "
	    "mismatching=%zu unknown=%zu seconds=%.1f%s", sc->nkeys, sc->checked, sc->ok,
	    sc->missing, sc->mismatching, sc->unknown, secs,
	    __atomic_load_n(&sc->stop, __ATOMIC_ACQUIRE) ? " stopped=reload" : "");
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
keywatch_check_all(struct snap *s, time_t now)
{
	const struct conf *c = s->conf;
	struct keywatch_scan *sc = scan_of(s);
	double t0 = mono();
	size_t k;
	int bad = 0;

	for (k = 0; sc != NULL && k < sc->nkeys; k++) {
		if (c->key_check_mode == KEYCHECK_MODE_OFF)
			break;
		if (check_one(s, sc, k) != MKS_OK)
			bad++;
	}
	for (k = 0; k < c->nkeys; k++)
		decide_successor(s, k, now, 1);
	if (sc != NULL && c->key_check_mode != KEYCHECK_MODE_OFF) {
		__atomic_store_n(&sc->done, 1, __ATOMIC_RELEASE);
		log_summary(sc, mono() - t0);
	}
	publish_states(s);
	return bad;
}

/* The background checker: every key once, at most key_check_rate a second. */
static void *
scan_thread(void *arg)
{
	struct snap *s = arg;
	struct keywatch_scan *sc = s->scan;
	long long step = 1000000000LL / s->conf->key_check_rate;
	struct timespec next;
	double t0 = mono();
	size_t k;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (k = 0; k < sc->nkeys && !__atomic_load_n(&sc->stop, __ATOMIC_ACQUIRE); k++) {
		check_one(s, sc, k);
		/* Absolute deadlines keep the rate, however long a check took. */
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		/* Every so often, so a long pass shows in the metrics as it goes. */
		if (k % 1000 == 999)
			publish_states(s);
	}
	__atomic_store_n(&sc->done, 1, __ATOMIC_RELEASE);
	log_summary(sc, mono() - t0);
	publish_states(s);
	snap_unref(s);
	return NULL;
}

void
keywatch_start(struct snap *s, time_t now)
{
	struct keywatch_scan *sc = scan_of(s);
	pthread_attr_t attr;
	pthread_t tid;
	size_t k;

	/* Successors are few, and decide which key signs: settle them first. */
	for (k = 0; k < s->conf->nkeys; k++)
		decide_successor(s, k, now, 1);
	publish_states(s);
	if (sc == NULL || s->conf->key_check_mode == KEYCHECK_MODE_OFF || sc->nkeys == 0)
		return;
	log_msg(LOG_INFO, "keycheck start keys=%zu rate=%d/s", sc->nkeys,
	    s->conf->key_check_rate);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The thread holds the snapshot until it is done with it. */
	if (pthread_create(&tid, &attr, scan_thread, snap_ref(s)) != 0) {
		log_msg(LOG_ERR, "error event=keycheck reason=\"cannot start the key check "
		    "thread\"");
		snap_unref(s);
	}
	pthread_attr_destroy(&attr);
}

void
keywatch_stop(struct snap *s)
{
	if (s != NULL && s->scan != NULL)
		__atomic_store_n(&s->scan->stop, 1, __ATOMIC_RELEASE);
}

void
keywatch_poll(struct snap *s, time_t now)
{
	size_t k;

	for (k = 0; k < s->conf->nkeys; k++)
		decide_successor(s, k, now, 0);
}
