/*
 * milter.c - libmilter callbacks: sign or verify each message as it streams
 * (the verifying end of message is in verify.c).
 *
 * libmilter offers no user pointer for the whole filter, so the current
 * snapshot lives in this file behind a mutex (the one piece of shared
 * mutable state); each message takes its own reference at MAIL FROM and
 * keeps it to the end, so a reload never changes a message half-way.
 * Key lookups start at end-of-headers and run while the body arrives.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "addr.h"
#include "authres.h"
#include "decide.h"
#include "dkim.h"
#include "keywatch.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "milter_msg.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap *current;
static int inflight;
static int draining;		/* shutting down: no new message may start */

/* Protocol steps we do not need, and replies the MTA need not wait for. */
#define WANT_PROTO (SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA | \
	SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_NR_CONN)


static struct snap *
snap_get(void)
{
	struct snap *s;

	pthread_mutex_lock(&snap_lock);
	s = snap_ref(current);
	pthread_mutex_unlock(&snap_lock);
	return s;
}

void
milter_swap(struct snap *s)
{
	struct snap *old;

	pthread_mutex_lock(&snap_lock);
	old = current;
	current = s;
	pthread_mutex_unlock(&snap_lock);
	snap_unref(old);
}

void
milter_cleanup(void)
{
	milter_swap(NULL);
}

void
milter_drain(void)
{
	__atomic_store_n(&draining, 1, __ATOMIC_SEQ_CST);
}

int
milter_inflight(void)
{
	return __atomic_load_n(&inflight, __ATOMIC_SEQ_CST);
}

static void
msg_free(struct msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < LIMIT_SIGNATURES; i++)
		dns_query_free(m->q[i]);
	dns_query_free(m->dmarc_q);
	dns_query_free(m->dmarc_org_q);
	valign_free(m);
	dkim_free(m->d);
	snap_unref(m->snap);
	free(m->ar_index);
	free(m);
	__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	metrics_gauge_add(MG_MSG_INFLIGHT, -1);
}


static void msg_abandon(struct conn *c, const char *why);

/*
 * Every message that gets its final reply passes here: what was decided
 * for it and the reply, counted once.
 */
static sfsistat
msg_end(unsigned decision, sfsistat rc)
{
	metrics_inc(MC_MESSAGES, decision);
	metrics_inc(MC_ACTIONS, rc == SMFIS_REJECT ? MA_REJECT :
	    rc == SMFIS_TEMPFAIL ? MA_TEMPFAIL : MA_ACCEPT);
	return rc;
}

static void
update_qid(SMFICTX *ctx, struct msg *m)
{
	const char *i = smfi_getsymval(ctx, "i");

	if (i != NULL && *i != '\0')
		str_copy(m->qid, i, sizeof(m->qid));
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	struct conn *c = smfi_getpriv(ctx);

	/*
	 * A second negotiation on the same connection starts it afresh: the
	 * context it had (and any message in it) must not be lost.
	 */
	if (c != NULL) {
		msg_free(c->msg);
		memset(c, 0, sizeof(*c));
	} else if ((c = calloc(1, sizeof(*c))) == NULL)
		return SMFIS_REJECT;	/* libmilter turns this into "no filtering" */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & WANT_PROTO;
	*pf2 = *pf3 = 0;
	c->actions = *pf0;
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->nr_hdr = (*pf1 & SMFIP_NR_HDR) != 0;
	c->nr_body = (*pf1 & SMFIP_NR_BODY) != 0;
	smfi_setpriv(ctx, c);
	/* Ask only for the macros the decision uses. */
	smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} {client_addr}");
	smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
	smfi_setsymlist(ctx, SMFIM_EOH, "i");
	smfi_setsymlist(ctx, SMFIM_EOM, "i");
	return SMFIS_CONTINUE;
}

static struct conn *
conn_get(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL)
		smfi_setpriv(ctx, c);	/* an MTA that skipped negotiation */
	return c;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	struct conn *c = conn_get(ctx);
	const char *dn;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->addr[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, c->addr,
		    sizeof(c->addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr,
		    c->addr, sizeof(c->addr));
	else {
		const char *ca = smfi_getsymval(ctx, "{client_addr}");

		if (ca != NULL)
			str_copy(c->addr, ca, sizeof(c->addr));
	}
	dn = smfi_getsymval(ctx, "{daemon_name}");
	str_copy(c->daemon, dn ? dn : "", sizeof(c->daemon));
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	struct msg *m;
	struct decide_in in;
	const char *auth, *dn;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	/* A new message on the same connection replaces an unfinished one. */
	msg_abandon(c, "a new message began on the connection");
	if (__atomic_load_n(&draining, __ATOMIC_SEQ_CST)) {
		/* The MTA keeps the message and tries again after the restart. */
		smfi_setreply(ctx, "451", "4.3.2", "dkimgate is restarting, try again later");
		return SMFIS_TEMPFAIL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return SMFIS_TEMPFAIL;
	__atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
	metrics_gauge_add(MG_MSG_INFLIGHT, 1);
	c->msg = m;
	m->start = time(NULL);
	if ((m->snap = snap_get()) == NULL)
		return SMFIS_TEMPFAIL;
	update_qid(ctx, m);
	auth = smfi_getsymval(ctx, "{auth_authen}");
	str_copy(m->user, auth ? auth : "", sizeof(m->user));
	/* sendmail sends {daemon_name} with MAIL FROM too. */
	if (c->daemon[0] == '\0' && (dn = smfi_getsymval(ctx, "{daemon_name}")) != NULL)
		str_copy(c->daemon, dn, sizeof(c->daemon));
	in.client_addr = c->addr[0] ? c->addr : NULL;
	in.auth_user = m->user;
	in.daemon_name = c->daemon;
	m->sign = decide_mode(m->snap->conf, &in, m->rule, sizeof(m->rule), NULL) ==
	    DECIDE_SIGN;
	if ((m->d = dkim_create(time(NULL))) == NULL)
		return SMFIS_TEMPFAIL;
	if (!m->sign) {
		dkim_enable_verify(m->d, LIMIT_SIGNATURES);
		dkim_set_keycache(m->d, m->snap->keys);
	}
	return SMFIS_CONTINUE;
}

/*
 * Remember the index of a forged A-R field of our authserv-id. Every one
 * must go, however many the sender put in, so the list has no fixed cap.
 */
static int
ar_remember(struct msg *m)
{
	if (m->nar == m->ar_alloc) {
		size_t n = m->ar_alloc ? 2 * m->ar_alloc : 8;
		int *p = reallocarray(m->ar_index, n, sizeof(*p));

		if (p == NULL)
			return -1;
		m->ar_index = p;
		m->ar_alloc = n;
	}
	m->ar_index[m->nar++] = m->ar_seen;
	return 0;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c ? c->msg : NULL;
	sfsistat ok = c && c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;

	if (m == NULL || m->dkim_failed)
		return ok;
	/* Without HDR_LEADSPC the MTA dropped the space after the colon. */
	if (dkim_header_nv(m->d, name, value, !c->leadspc) < 0 && !m->hdr_logged) {
		size_t fl = strlen(name) + 1 + strlen(value);

		/* Once per message: what made the header too large, and how big. */
		m->hdr_logged = 1;
		update_qid(ctx, m);
		if (fl > LIMIT_HEADER_FIELD)
			log_msg(LOG_WARNING, "%s: oversized-header field_bytes=%zu "
			    "reason=\"a field over %d bytes\"", milter_qid(m), fl,
			    LIMIT_HEADER_FIELD);
		else
			log_msg(LOG_WARNING, "%s: oversized-header field_bytes=%zu "
			    "reason=\"header over %d bytes or %d fields\"", milter_qid(m), fl,
			    LIMIT_HEADER_TOTAL, LIMIT_HEADER_COUNT);
	}
	if (!m->sign && strcasecmp(name, "Authentication-Results") == 0) {
		m->ar_seen++;
		if (authres_claims_id(value, m->snap->conf->authserv_id) &&
		    ar_remember(m) < 0)
			m->ar_lost = 1;
	}
	return ok;
}

/*
 * One signer per chosen key. A key that cannot be had (its file vanished or
 * does not decode) fails this message only: it is logged once as a key
 * error, then each message it touches goes the way sign.on_error says.
 */
static int
add_signers(struct msg *m, struct decide_keys *dk)
{
	const struct conf *cf = m->snap->conf;
	size_t i;

	for (i = 0; i < dk->nkeys; i++) {
		const struct conf_key *k = dk->keys[i];
		int succ = k->slot >= 0 && keywatch_uses_successor(m->snap, (size_t)k->slot);
		struct dkim_signer s;
		struct crypto_key *key;
		char err[512];
		int fresh, rc;

		if ((key = snap_signing_key(m->snap, k, succ, err, sizeof(err), &fresh)) == NULL) {
			if (fresh)
				log_msg(LOG_ERR, "error event=key key=%s domain=%s selector=%s "
				    "reason=\"%s\"", k->id, k->domain, succ ? k->succ_selector :
				    k->selector, err);
			log_msg(LOG_ERR, "%s: error event=sign key=%s reason=\"key unusable: %s\" "
			    "action=%s", milter_qid(m), k->id, err,
			    conf_action_name(cf->on_sign_error));
			return -1;
		}
		m->sig_alg[i] = crypto_key_type(key);
		memset(&s, 0, sizeof(s));
		s.key = key;
		s.domain = k->domain;
		s.selector = succ ? k->succ_selector : k->selector;
		s.hcanon = cf->hcanon;
		s.bcanon = cf->bcanon;
		s.headers = (const char *const *)cf->headers;
		s.nheaders = cf->nheaders;
		s.oversign = (const char *const *)cf->oversign;
		s.noversign = cf->noversign;
		s.lifetime = cf->lifetime;
		rc = dkim_add_signer(m->d, &s, err, sizeof(err));
		crypto_key_unref(key);
		if (rc < 0) {
			log_msg(LOG_ERR, "%s: error event=sign key=%s reason=\"%s\"", milter_qid(m),
			    k->id, err);
			return -1;
		}
	}
	return 0;
}

static sfsistat
sign_error_reply(SMFICTX *ctx, enum conf_action a)
{
	return milter_action_reply(ctx, a, a == ACTION_REJECT ?
	    "5.7.0 message could not be signed" :
	    "4.3.0 message could not be signed, try later");
}

/*
 * A header past the limits can never be signed: retrying would not help, so
 * this is a permanent refusal unless the operator accepts unsigned mail.
 */
static sfsistat
too_large_reply(SMFICTX *ctx, struct msg *m)
{
	enum conf_action a = m->snap->conf->on_sign_error;

	log_msg(LOG_ERR, "%s: error event=sign reason=\"message header too large to sign "
	    "(over %d fields or %d bytes)\" action=%s", milter_qid(m), LIMIT_HEADER_COUNT,
	    LIMIT_HEADER_TOTAL, a == ACTION_ACCEPT ? "accept" : "reject");
	if (a == ACTION_ACCEPT)
		return SMFIS_ACCEPT;
	return milter_action_reply(ctx, ACTION_REJECT, "5.3.4 message header too large to sign");
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c ? c->msg : NULL;
	const char *from;
	struct decide_keys *dk = m ? &m->keys : NULL;
	size_t nfromf;
	int added;

	/*
	 * Only the first end of header counts: an MTA that sends it again
	 * must not start the lookups and the signature parsing twice.
	 */
	if (m == NULL || m->eoh_seen)
		return SMFIS_CONTINUE;
	m->eoh_seen = 1;
	update_qid(ctx, m);
	from = dkim_from(m->d, &nfromf);
	m->from_fields = nfromf;
	m->nfrom = 0;
	if (from != NULL) {
		struct addr_from af;

		/* A From: that does not parse yields no domain: nothing goes to DNS. */
		m->nfrom = addr_parse_from(from, &af);
		if (m->nfrom == 1) {
			str_copy(m->from_domain, af.domain, sizeof(m->from_domain));
			snprintf(m->from_addr, sizeof(m->from_addr), "%s@%s", af.local, af.domain);
		} else if (m->nfrom < 0)
			m->from_why = af.why;
	}
	/* Alignment needs exactly one author. */
	if (m->nfrom != 1 || nfromf != 1) {
		m->from_domain[0] = '\0';
		m->from_addr[0] = '\0';
	}
	if (m->sign) {
		if (dkim_header_too_large(m->d)) {
			sfsistat rc = too_large_reply(ctx, m);

			metrics_inc(MC_SIGN_ERRORS, 0);
			msg_free(m);
			c->msg = NULL;
			return msg_end(MD_SIGN, rc);
		}
		if (decide_keys(m->snap->conf, m->from_addr, m->user, dk, NULL) == 0) {
			log_msg(LOG_INFO, "%s: not-signed rule=\"%s\" from=%s reason=\"%s\"",
			    milter_qid(m), m->rule, m->from_addr[0] ? m->from_addr : "-", dk->why);
			/* Nothing more to do for this message: let it go now. */
			msg_free(m);
			c->msg = NULL;
			return msg_end(MD_PASS_UNSIGNED, SMFIS_ACCEPT);
		}
		if ((added = add_signers(m, dk)) < 0 || dkim_eoh(m->d) < 0) {
			sfsistat rc;

			/* add_signers said why already. */
			if (added == 0)
				log_msg(LOG_ERR, "%s: error event=sign reason=\"%s\"",
				    milter_qid(m), dkim_error(m->d));
			rc = sign_error_reply(ctx, m->snap->conf->on_sign_error);
			metrics_inc(MC_SIGN_ERRORS, 0);
			msg_free(m);
			c->msg = NULL;
			return msg_end(MD_SIGN, rc);
		}
		return SMFIS_CONTINUE;
	}
	if (dkim_eoh(m->d) < 0) {
		m->dkim_failed = 1;
		log_msg(LOG_ERR, "%s: error event=verify reason=\"%s\"", milter_qid(m),
		    dkim_error(m->d));
		return SMFIS_CONTINUE;
	}
	verify_lookups(m);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c ? c->msg : NULL;

	if (m != NULL && !m->dkim_failed && dkim_body(m->d, p, n) < 0)
		m->dkim_failed = 1;
	return c && c->nr_body ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
eom_sign(SMFICTX *ctx, struct conn *c, struct msg *m)
{
	size_t i, n;
	struct buf ids;
	int ids_ok = 1;

	if (m->dkim_failed || dkim_eom(m->d) < 0) {
		log_msg(LOG_ERR, "%s: error event=sign reason=\"%s\"", milter_qid(m), dkim_error(m->d));
		metrics_inc(MC_SIGN_ERRORS, 0);
		return sign_error_reply(ctx, m->snap->conf->on_sign_error);
	}
	n = dkim_nsignatures(m->d);
	buf_init(&ids, 1024);
	/* Inserted bottom-up at the top, so they keep the key table's order. */
	for (i = n; i > 0; i--) {
		char *v = milter_value(dkim_signature(m->d, i - 1), c->leadspc);

		if (smfi_insheader(ctx, 0, "DKIM-Signature", v) != MI_SUCCESS) {
			char why[200];

			free(v);
			buf_release(&ids);
			milter_insheader_failed(c, m, "DKIM-Signature", why, sizeof(why));
			log_msg(LOG_ERR, "%s: error event=sign reason=\"%s\"", milter_qid(m), why);
			metrics_inc(MC_SIGN_ERRORS, 0);
			return sign_error_reply(ctx, m->snap->conf->on_sign_error);
		}
		free(v);
	}
	for (i = 0; i < m->keys.nkeys; i++) {
		const struct conf_key *k = m->keys.keys[i];

		/* The list is only for the log line: past its bound it stays cut. */
		if (ids_ok && buf_printf(&ids, "%s%s/%s", i ? "," : "", k->domain,
		    k->slot >= 0 && keywatch_uses_successor(m->snap, (size_t)k->slot) ?
		    k->succ_selector : k->selector) < 0)
			ids_ok = 0;
		metrics_inc(MC_SIGNATURES, m->sig_alg[i] == CRYPTO_ED25519 ? MS_ED25519_SHA256 :
		    MS_RSA_SHA256);
	}
	log_msg(LOG_INFO, "%s: signed rule=\"%s\" from=%s signatures=%s", milter_qid(m), m->rule,
	    m->from_addr, buf_str(&ids));
	buf_release(&ids);
	return SMFIS_ACCEPT;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);
	struct msg *m = c ? c->msg : NULL;
	sfsistat rc;
	uint64_t t0 = metrics_now_us();
	int sign;

	if (m == NULL)
		return SMFIS_CONTINUE;
	clock_gettime(CLOCK_MONOTONIC, &m->eom_start);
	update_qid(ctx, m);
	sign = m->sign;
	if (sign)
		rc = eom_sign(ctx, c, m);
	else
		rc = verify_eom(ctx, c, m);
	msg_free(m);
	c->msg = NULL;
	metrics_observe(sign ? MH_EOM_SIGN : MH_EOM_VERIFY, metrics_now_us() - t0);
	return msg_end(sign ? MD_SIGN : MD_VERIFY, rc);
}

/*
 * A message given up before its end (SMFIC_ABORT, or its connection
 * closed): free it, which cancels its DNS lookups, and say so with what is
 * still outstanding daemon-wide, so that a leak of lookups would show.
 */
static void
msg_abandon(struct conn *c, const char *why)
{
	struct msg *m = c->msg;
	struct snap *s;
	char qid[sizeof(m->qid)];

	if (m == NULL)
		return;
	metrics_inc(MC_ABORTED, 0);
	str_copy(qid, milter_qid(m), sizeof(qid));
	s = snap_ref(m->snap);
	msg_free(m);
	c->msg = NULL;
	log_msg(LOG_INFO, "%s: aborted reason=\"%s\" dns_outstanding=%d", qid, why,
	    s ? dns_outstanding(s->dns) : 0);
	snap_unref(s);
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		msg_abandon(c, "the MTA aborted the message");
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		msg_abandon(c, "the MTA closed the connection");
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
	"dkimgate",
	SMFI_VERSION,
	SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	cb_connect,
	NULL,		/* helo */
	cb_envfrom,
	NULL,		/* envrcpt */
	cb_header,
	cb_eoh,
	cb_body,
	cb_eom,
	cb_abort,
	cb_close,
	NULL,		/* unknown */
	NULL,		/* data */
	cb_negotiate,
};

int
milter_setup(struct snap *initial, char *err, size_t errlen)
{
	const struct conf *cf = initial->conf;
	char *sock;

	milter_swap(initial);
	if (smfi_register(filter) != MI_SUCCESS) {
		snprintf(err, errlen, "smfi_register failed");
		return -1;
	}
	/* smfi_setconn copies the text (it wants a char *, hence the copy). */
	if ((sock = strdup(cf->socket)) == NULL || smfi_setconn(sock) != MI_SUCCESS) {
		free(sock);
		snprintf(err, errlen, "bad socket '%s'", cf->socket);
		return -1;
	}
	free(sock);
	smfi_settimeout(cf->milter_timeout);
	/*
	 * libmilter drops the connection on a packet over its limit (64 KB by
	 * default) without a word to us or the MTA, and Postfix sends header
	 * fields up to its header_size_limit (100 KB, or whatever is set):
	 * take far more than our own limits hold, so that they decide, log
	 * and answer.
	 */
	smfi_setmaxdatasize(LIMIT_MILTER_PACKET);
	if (smfi_opensocket(1) != MI_SUCCESS) {
		snprintf(err, errlen, "cannot open socket %s", cf->socket);
		return -1;
	}
	return 0;
}

int
milter_serve(void)
{
	return smfi_main();
}

void
milter_stop(void)
{
	smfi_stop();
}
