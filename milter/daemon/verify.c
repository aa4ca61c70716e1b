/*
 * verify.c - the verifying half of the milter glue: key and DMARC lookups
 * started at end of header, and at end of message the verdicts, alignment,
 * the Authentication-Results field and the action.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "log.h"
#include "metrics.h"
#include "milter_msg.h"

/* Start the key lookups: aligned signatures first when there are too many. */
void
verify_lookups(struct msg *m)
{
	const struct conf *cf = m->snap->conf;
	size_t n = dkim_nverdicts(m->d), i, pass, started = 0;
	unsigned long refused = dns_refused(m->snap->dns);

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			struct dkim_verdict *v = dkim_verdict(m->d, i);
			int aligned;
			char name[2 * LIMIT_DOMAIN + 16];

			if (!v->key_needed || m->q[i] != NULL)
				continue;
			aligned = m->from_domain[0] &&
			    align_relaxed(m->snap->align, v->sig->d, m->from_domain);
			if (pass == 0 && !aligned)
				continue;
			if (started >= (size_t)cf->max_signatures) {
				dkim_skip(m->d, i);
				continue;
			}
			snprintf(name, sizeof(name), "%s._domainkey.%s", v->sig->s, v->sig->d);
			m->q[i] = dns_txt_start(m->snap->dns, name);
			started++;
		}
	}
	valign_start(m);
	/* Past dns.max_outstanding a lookup fails at once: say so, once. */
	refused = dns_refused(m->snap->dns) - refused;
	if (refused > 0)
		log_msg(LOG_WARNING, "%s: warning event=dns reason=\"too many DNS lookups "
		    "outstanding (dns.max_outstanding %d)\" refused=%lu outstanding=%d",
		    milter_qid(m), cf->dns_max_outstanding, refused,
		    dns_outstanding(m->snap->dns));
}

/* Results are counted by their enum value: the two orders must agree. */
_Static_assert((int)DKIM_NONE == MV_NONE && (int)DKIM_PASS == MV_PASS &&
    (int)DKIM_FAIL == MV_FAIL && (int)DKIM_NEUTRAL == MV_NEUTRAL && (int)DKIM_POLICY == MV_POLICY &&
    (int)DKIM_TEMPERROR == MV_TEMPERROR && (int)DKIM_PERMERROR == MV_PERMERROR,
    "metrics.h result labels follow enum dkim_status");

/* Count one message's results: each signature's, and the verdict by its name. */
static void
count_results(struct msg *m, size_t n, const char *verdict)
{
	size_t i;
	unsigned l;

	for (i = 0; i < n; i++)
		metrics_inc(MC_VERIFY_RESULTS, (unsigned)dkim_verdict(m->d, i)->status);
	if (n == 0)
		metrics_inc(MC_VERIFY_RESULTS, MV_NONE);
	for (l = 0; l < metrics_nlabels(MC_ALIGNMENT); l++)
		if (strcmp(metrics_label(MC_ALIGNMENT, l), verdict) == 0)
			metrics_inc(MC_ALIGNMENT, l);
	metrics_add(MC_AR_REMOVED, 0, m->nar);
}

/* Which outcome decides the action when nothing passed: the most serious. */
static int
status_rank(enum dkim_status st)
{
	switch (st) {
	case DKIM_TEMPERROR: return 5;
	case DKIM_FAIL: return 4;
	case DKIM_POLICY: return 3;
	case DKIM_PERMERROR: return 2;
	case DKIM_NEUTRAL: return 1;
	default: return 0;
	}
}

/* Wait for the key lookups and hand them to the engine. */
static void
collect_keys(struct msg *m)
{
	size_t i;

	for (i = 0; i < dkim_nverdicts(m->d); i++) {
		const struct dns_result *r;
		enum dkim_keystate ks;

		if (m->q[i] == NULL)
			continue;
		r = dns_query_wait(m->q[i]);
		ks = r->status == DNS_OK ? DKIM_KEY_FOUND :
		    (r->status == DNS_NXDOMAIN || r->status == DNS_NODATA) ?
		    DKIM_KEY_MISSING : DKIM_KEY_TEMPFAIL;
		dkim_set_key(m->d, i, ks, (const char *const *)r->txt, r->txtlen, r->n,
		    r->dnssec, r->why);
	}
}

/* Settings that turn a technically good signature into policy. */
static void
apply_policy(struct msg *m, struct dkim_verdict *v)
{
	const struct conf *cf = m->snap->conf;

	if (v->status != DKIM_PASS)
		return;
	if (cf->partial_body_policy && v->partial_body) {
		v->status = DKIM_POLICY;
		str_copy(v->reason, "l= leaves part of the body unsigned", sizeof(v->reason));
	} else if (cf->max_age > 0 && v->sig->t >= 0 &&
	    (long long)m->start - v->sig->t > cf->max_age) {
		v->status = DKIM_POLICY;
		snprintf(v->reason, sizeof(v->reason), "signature older than %lld s (t=)",
		    cf->max_age);
	}
}

sfsistat
verify_eom(SMFICTX *ctx, struct conn *c, struct msg *m)
{
	const struct conf *cf = m->snap->conf;
	struct buf ar, summary;
	size_t i, n;
	int any_pass = 0, any_aligned = 0, any_unknown = 0, k, ar_ok, sum_ok = 1;
	enum dkim_status worst = DKIM_NONE;
	const char *verdict, *detail = NULL;
	char *val;
	struct valign va;
	struct authres_policy pol;
	enum conf_action act = ACTION_ACCEPT;
	sfsistat rc;

	if (m->ar_lost) {
		/* A forged result of ours would reach the mailbox: not this time. */
		log_msg(LOG_ERR, "%s: error event=verify reason=\"out of memory for the "
		    "forged Authentication-Results to remove\"", milter_qid(m));
		return milter_action_reply(ctx, ACTION_TEMPFAIL, cf->tempfail_reply);
	}
	collect_keys(m);
	dkim_eom(m->d);
	valign_message(m, &va);
	buf_init(&ar, LIMIT_OUT_HEADER);
	buf_init(&summary, 4096);
	ar_ok = authres_begin(&ar, cf->authserv_id) == 0;
	n = dkim_nverdicts(m->d);
	for (i = 0; i < n; i++) {
		struct dkim_verdict *v = dkim_verdict(m->d, i);
		struct authres_align al;
		enum valign_state st = VALIGN_UNCHECKED;
		char d_org[LIMIT_DOMAIN + 1] = "";

		if (m->dkim_failed && v->status == DKIM_PASS) {
			v->status = DKIM_TEMPERROR;
			str_copy(v->reason, "internal error", sizeof(v->reason));
		}
		apply_policy(m, v);
		memset(&al, 0, sizeof(al));
		if (m->from_domain[0] && v->parsed)
			st = valign_signature(m, &va, i, v->sig->d, &al, d_org, sizeof(d_org));
		if (v->status == DKIM_PASS) {
			any_pass = 1;
			any_aligned |= st == VALIGN_YES;
			any_unknown |= st == VALIGN_UNKNOWN;
		}
		if (status_rank(v->status) > status_rank(worst))
			worst = v->status;
		ar_ok &= authres_add_dkim(&ar, v, st != VALIGN_UNCHECKED ? &al : NULL) == 0;
		if (st != VALIGN_UNCHECKED) {
			/* Per signature: the method, and d='s Organizational Domain. */
			memset(&pol, 0, sizeof(pol));
			pol.method = va.method;
			pol.org = d_org;
			ar_ok &= authres_add_policy(&ar, &pol) == 0;
		}
		/* For the log line only: past its bound it stays cut. */
		if (sum_ok && buf_printf(&summary, "%s%s:%s/%s", i ? "," : "",
		    dkim_status_name(v->status), v->sig->d[0] ? v->sig->d : "-",
		    v->sig->s[0] ? v->sig->s : "-") < 0)
			sum_ok = 0;
	}
	if (n == 0)
		ar_ok &= authres_add_none(&ar, "no DKIM signature") == 0;
	/* Signatures past the limit are not evaluated, but not hidden either. */
	if (dkim_nsignatures_seen(m->d) > n)
		ar_ok &= authres_add_unevaluated(&ar, dkim_nsignatures_seen(m->d) - n,
		    LIMIT_SIGNATURES) == 0;
	if (m->from_fields == 0 || m->nfrom == 0)
		detail = "no From: address";
	else if (m->nfrom < 0)
		detail = "From: address does not parse";
	else if (m->nfrom != 1 || m->from_fields != 1)
		detail = "several From: addresses";
	/*
	 * An author field that does not parse can never align, whatever the
	 * signatures say: that is a failure, not an absence of signatures.
	 * A passing signature whose alignment a DNS failure hid, and none
	 * aligned: temperror, as RFC 8601 means it, never a guess.
	 */
	verdict = m->from_fields > 0 && m->nfrom < 0 ? "fail" : n == 0 ? "none" :
	    any_aligned ? "aligned-pass" : any_unknown ? "temperror" :
	    any_pass ? "unaligned-pass" : "fail";
	if (any_unknown && !any_aligned && detail == NULL)
		detail = va.why;
	ar_ok &= authres_add_verdict(&ar, verdict, m->from_domain[0] ? m->from_domain : NULL,
	    detail) == 0;
	if (m->from_domain[0]) {
		pol.method = va.method;
		pol.org = va.org_known ? va.org : NULL;
		pol.adkim = va.adkim;
		pol.source = va.source;
		ar_ok &= authres_add_policy(&ar, &pol) == 0;
	}
	/*
	 * A fragment that would pass the field's bound is left out whole (the
	 * field stays well-formed); say so, since a reader will miss it.
	 */
	if (!ar_ok)
		log_msg(LOG_ERR, "%s: error event=verify reason=\"Authentication-Results "
		    "over %d bytes: results left out\"", milter_qid(m), LIMIT_OUT_HEADER);
	/* Remove forged results claiming to be ours, highest index first. */
	for (k = (int)m->nar - 1; k >= 0; k--)
		smfi_chgheader(ctx, "Authentication-Results", m->ar_index[k], NULL);
	val = milter_value(buf_str(&ar), c->leadspc);
	if (smfi_insheader(ctx, 0, "Authentication-Results", val) != MI_SUCCESS) {
		char why[200];

		milter_insheader_failed(c, m, "Authentication-Results", why, sizeof(why));
		log_msg(LOG_ERR, "%s: error event=verify reason=\"%s\"", milter_qid(m), why);
	}
	free(val);
	if (!any_pass) {
		switch (worst) {
		case DKIM_NONE: act = cf->on_none; break;
		case DKIM_TEMPERROR: act = cf->on_temperror; break;
		case DKIM_FAIL: act = cf->on_fail; break;
		case DKIM_POLICY: act = cf->on_policy; break;
		default: act = cf->on_permerror; break;
		}
	}
	count_results(m, n, verdict);
	log_msg(LOG_INFO, "%s: verified client=%s from=%s signatures=%zu results=%s "
	    "alignment=%s adkim=%c method=%s org=%s adkim_source=%s dmarc_queries=%zu "
	    "dmarc_sent=%zu removed_ar=%zu action=%s%s%s%s", milter_qid(m),
	    c->addr[0] ? c->addr : "-", m->from_domain[0] ? m->from_domain : "-", n,
	    n ? buf_str(&summary) : "none", verdict, va.adkim, va.method,
	    va.org_known ? va.org : "-", va.source[0] ? va.source : "-", va.queries, va.sent, m->nar,
	    conf_action_name(act),
	    m->from_why ? " from_error=\"" : "", m->from_why ? m->from_why : "",
	    m->from_why ? "\"" : "");
	buf_release(&ar);
	buf_release(&summary);
	rc = milter_action_reply(ctx, act, act == ACTION_REJECT ? cf->reject_reply :
	    cf->tempfail_reply);
	return rc;
}
