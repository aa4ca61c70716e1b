/*
 * keywatch.c - key checks against DNS and gap-free rotation (see keywatch.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keycheck.h"
#include "keywatch.h"
#include "log.h"
#include "metrics.h"

int
keywatch_state_path(const char *state_dir, const char *id, const char *succ,
    char *out, size_t outlen)
{
	int n;

	if (state_dir == NULL || state_dir[0] == '\0')
		return -1;
	n = snprintf(out, outlen, "%s/rotated-%s-%s", state_dir, id, succ);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Record the first switch to a successor; later switches keep that time. */
static void
record_switch(const struct conf *c, const struct conf_key *k, time_t now)
{
	char path[4096], line[32];
	int fd, n;

	if (keywatch_state_path(c->state_dir, k->id, k->succ_selector, path,
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

/* Hand the key states and rotation states of s to the metrics. */
static void
publish_states(const struct snap *s, const enum metrics_keystate *st)
{
	const struct conf *c = s->conf;
	struct metrics_keys *mk = metrics_keys_create((size_t)c->metrics_keys);
	size_t k;

	if (mk == NULL)
		return;
	for (k = 0; k < c->nkeys; k++)
		metrics_keys_add(mk, c->keys[k].id, st ? st[k] : MKS_UNCHECKED,
		    c->keys[k].succ_selector == NULL ? MRO_NONE :
		    keywatch_uses_successor(s, k) ? MRO_SWITCHED : MRO_WAITING);
	metrics_keys_publish(mk);
}

int
keywatch_check_all(struct snap *s, time_t now)
{
	const struct conf *c = s->conf;
	size_t k, i;
	int bad = 0;
	enum metrics_keystate *st = calloc(c->nkeys + 1, sizeof(*st));

	for (k = 0; k < c->nkeys; k++) {
		const struct conf_key *key = &c->keys[k];
		struct keycheck *kc;
		struct crypto_key *priv;
		char err[512];
		int fresh;

		if (st != NULL)
			st[k] = MKS_UNCHECKED;
		if (c->key_check_mode == KEYCHECK_MODE_OFF)
			continue;
		if ((kc = keycheck_create(key->domain, key->selector)) == NULL)
			continue;
		/* The check compares DNS with the private key: decode it now. */
		if ((priv = snap_signing_key(s, key, 0, err, sizeof(err), &fresh)) == NULL)
			keycheck_add(kc, KEYCHECK_FAIL, "key-file", NULL, "%s", err);
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
		if (st != NULL)
			st[k] = key_state(kc);
		if (kc->published != KEYCHECK_PUB_YES)
			bad++;
		else
			log_msg(LOG_INFO, "keycheck key=%s name=%s state=published dnssec=%s",
			    key->id, kc->name, kc->dnssec ? kc->dnssec : "-");
		keycheck_free(kc);
	}
	for (k = 0; k < c->nkeys; k++)
		decide_successor(s, k, now, 1);
	publish_states(s, st);
	free(st);
	return bad;
}

void
keywatch_poll(struct snap *s, time_t now)
{
	size_t k;

	for (k = 0; k < s->conf->nkeys; k++)
		decide_successor(s, k, now, 0);
}
