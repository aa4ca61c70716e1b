/*
 * verify_align.c - the alignment half of verifying (milter glue): DMARC
 * lookups started at end of header beside the key lookups, and at end of
 * message the From: domain's adkim and Organizational Domain and each
 * signature's alignment, by the method verify.alignment names.
 *
 * rfc9989 (default): one DNS Tree Walk from the From: domain (its policy
 * record gives adkim, section 4.10.1; its Organizational Domain, section
 * 4.10.2) and one from each distinct d= that could share it; a DNS failure
 * that leaves a needed fact unknown makes the alignment unknown, reported
 * as temperror, never guessed. rfc7489: the public suffix list gives
 * Organizational Domains, and adkim comes from the From: domain's record,
 * else its Organizational Domain's (RFC 7489 section 6.6.3).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter_msg.h"

/* The last label of a domain (no trailing dot expected). */
static const char *
last_label(const char *d)
{
	const char *dot = strrchr(d, '.');

	return dot ? dot + 1 : d;
}

/* d= lower-cased without a trailing dot into out. */
static void
norm_domain(const char *d, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; d[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)(d[i] >= 'A' && d[i] <= 'Z' ? d[i] + 32 : d[i]);
	out[i] = '\0';
	if (i > 0 && out[i - 1] == '.')
		out[i - 1] = '\0';
}

/* The walk already started for domain, or -1. */
static int
find_walk(const struct msg *m, const char *domain)
{
	size_t k;

	for (k = 0; k < m->nwalks; k++)
		if (strcmp(m->walk_domain[k], domain) == 0)
			return (int)k;
	return -1;
}

static int
add_walk(struct msg *m, const char *domain)
{
	int k = find_walk(m, domain);
	struct dmarcwalk *w;

	if (k >= 0 || m->nwalks >= sizeof(m->walks) / sizeof(m->walks[0]))
		return k;
	if (m->walk_pool == NULL &&
	    (m->walk_pool = dmarcwalk_pool_create(m->snap->dns)) == NULL)
		return -1;
	if ((w = dmarcwalk_start(m->walk_pool, m->snap->walks, domain)) == NULL)
		return -1;
	m->walks[m->nwalks] = w;
	str_copy(m->walk_domain[m->nwalks], domain, sizeof(m->walk_domain[0]));
	return (int)m->nwalks++;
}

void
valign_start(struct msg *m)
{
	const struct conf *cf = m->snap->conf;
	size_t i;
	char name[LIMIT_DOMAIN + 16];

	for (i = 0; i < LIMIT_SIGNATURES; i++)
		m->walk_of[i] = -1;
	if (!cf->dmarc_lookup || !m->from_domain[0])
		return;
	if (cf->alignment == ALIGN_RFC7489) {
		snprintf(name, sizeof(name), "_dmarc.%s", m->from_domain);
		m->dmarc_q = dns_txt_start(m->snap->dns, name);
		if (align_org_domain(m->snap->align, m->from_domain, m->from_org,
		    sizeof(m->from_org)) == 0 && strcmp(m->from_org, m->from_domain) != 0) {
			snprintf(name, sizeof(name), "_dmarc.%s", m->from_org);
			m->dmarc_org_q = dns_txt_start(m->snap->dns, name);
		}
		return;
	}
	/* The From: walk first: the verdict needs it whatever the signatures. */
	add_walk(m, m->from_domain);
	for (i = 0; i < dkim_nverdicts(m->d) && i < LIMIT_SIGNATURES; i++) {
		char d[LIMIT_DOMAIN + 1];

		/* Only signatures being verified can pass, so only they need one. */
		if (m->q[i] == NULL)
			continue;
		norm_domain(dkim_verdict(m->d, i)->sig->d, d, sizeof(d));
		/*
		 * Equal names align strictly; names without a common top label
		 * can have no common Organizational Domain: no walk either way.
		 */
		if (d[0] == '\0' || strcmp(d, m->from_domain) == 0 ||
		    strcmp(last_label(d), last_label(m->from_domain)) != 0)
			continue;
		m->walk_of[i] = (signed char)add_walk(m, d);
	}
}

void
valign_free(struct msg *m)
{
	size_t k;

	for (k = 0; k < m->nwalks; k++)
		dmarcwalk_free(m->walks[k]);
	m->nwalks = 0;
	dmarcwalk_pool_free(m->walk_pool);
	m->walk_pool = NULL;
}

/* rfc7489: the From: domain's record, else its Organizational Domain's. */
static void
message_rfc7489(struct msg *m, struct valign *va)
{
	struct dns_query *qs[2] = { m->dmarc_q, m->dmarc_org_q };
	const char *names[2] = { m->from_domain, m->from_org };
	size_t i, k;

	va->adkim = 'r';
	str_copy(va->source, "none", sizeof(va->source));
	if (align_org_domain(m->snap->align, m->from_domain, va->org, sizeof(va->org)) == 0)
		va->org_known = 1;
	for (k = 0; k < 2; k++) {
		const struct dns_result *r;

		if (qs[k] == NULL)
			continue;
		r = dns_query_wait(qs[k]);
		for (i = 0; r->status == DNS_OK && i < r->n; i++)
			if (align_dmarc_adkim(r->txt[i], r->txtlen[i], &va->adkim) == 0) {
				snprintf(va->source, sizeof(va->source), "_dmarc.%s", names[k]);
				return;
			}
	}
}

void
valign_message(struct msg *m, struct valign *va)
{
	const struct dmarc_result *r;
	int k;

	memset(va, 0, sizeof(*va));
	va->method = m->snap->conf->alignment == ALIGN_RFC7489 ? "rfc7489" : "rfc9989";
	va->adkim = 'r';
	if (!m->from_domain[0])
		return;
	if (!m->snap->conf->dmarc_lookup) {
		/* No DMARC lookups at all: relaxed, by the public suffix list. */
		va->method = "rfc7489";
		if (align_org_domain(m->snap->align, m->from_domain, va->org,
		    sizeof(va->org)) == 0)
			va->org_known = 1;
		return;
	}
	if (m->snap->conf->alignment == ALIGN_RFC7489) {
		message_rfc7489(m, va);
		return;
	}
	va->adkim = '?';
	if ((k = find_walk(m, m->from_domain)) < 0) {
		str_copy(va->why, "DMARC tree walk could not start", sizeof(va->why));
		return;
	}
	r = dmarcwalk_wait(m->walks[k]);
	va->queries = dmarcwalk_cached(m->walks[k]) ? 0 : r->queries;
	va->sent = dmarcwalk_pool_sent(m->walk_pool);
	if (r->policy_known) {
		va->adkim = r->adkim;
		if (r->policy_found)
			snprintf(va->source, sizeof(va->source), "_dmarc.%s", r->policy_domain);
		else
			str_copy(va->source, "none", sizeof(va->source));
	}
	if (r->org_known) {
		va->org_known = 1;
		str_copy(va->org, r->org, sizeof(va->org));
	}
	if (!r->policy_known || !r->org_known) {
		size_t l;

		str_copy(va->why, "DNS failure in the DMARC tree walk: ", sizeof(va->why));
		l = strlen(va->why);
		str_copy(va->why + l, r->why, sizeof(va->why) - l);
	}
}

enum valign_state
valign_signature(struct msg *m, struct valign *va, size_t i, const char *d,
    struct authres_align *al, char *d_org, size_t d_orglen)
{
	char dl[LIMIT_DOMAIN + 1];
	int relaxed;		/* 1 yes, 0 no, -1 unknown */

	memset(al, 0, sizeof(*al));
	d_org[0] = '\0';
	al->from_domain = m->from_domain;
	al->strict = align_strict(d, m->from_domain);
	norm_domain(d, dl, sizeof(dl));
	if (strcmp(va->method, "rfc7489") == 0) {
		al->relaxed = al->strict || align_relaxed(m->snap->align, d, m->from_domain);
		al->mode = va->adkim;
		align_org_domain(m->snap->align, dl, d_org, d_orglen);
		return (va->adkim == 's' ? al->strict : al->relaxed) ? VALIGN_YES : VALIGN_NO;
	}
	if (al->strict) {
		relaxed = 1;
		str_copy(d_org, va->org, d_orglen);
	} else if (i < LIMIT_SIGNATURES && m->walk_of[i] >= 0 &&
	    (size_t)m->walk_of[i] < m->nwalks) {
		const struct dmarc_result *r = dmarcwalk_wait(m->walks[m->walk_of[i]]);

		if (r->org_known)
			str_copy(d_org, r->org, d_orglen);
		else if (va->why[0] == '\0') {
			size_t l;

			str_copy(va->why, "DNS failure in the DMARC tree walk: ", sizeof(va->why));
			l = strlen(va->why);
			str_copy(va->why + l, r->why, sizeof(va->why) - l);
		}
		relaxed = r->org_known && va->org_known ? strcmp(r->org, va->org) == 0 : -1;
	} else if (strcmp(last_label(dl), last_label(m->from_domain)) != 0)
		relaxed = 0;
	else
		return VALIGN_UNCHECKED;	/* not verified, so never walked */
	al->relaxed = relaxed == 1;
	al->relaxed_unknown = relaxed < 0;
	al->mode = va->adkim;
	if (al->strict)
		return VALIGN_YES;
	if (va->adkim == 's' || relaxed == 0)
		return VALIGN_NO;
	if (relaxed < 0 || va->adkim != 'r')
		return VALIGN_UNKNOWN;
	return VALIGN_YES;
}
