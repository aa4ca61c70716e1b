/*
 * dmarcreport.c - what dkimctl discover and testkey say about a domain's
 * DMARC: the RFC 9989 tree walk step by step (each _dmarc name asked and
 * what it gave), the policy record it finds and its adkim, and the
 * Organizational Domain, next to what the public suffix list (RFC 7489)
 * would give, so that a difference between the two shows.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "align.h"
#include "dmarcwalk.h"

static const char *
step_text(const struct dmarcwalk_step *st, char *buf, size_t len)
{
	if (st->kind == DMARC_ANS_REC)
		snprintf(buf, len, "record (adkim=%c psd=%s%s%s)", st->rec.adkim,
		    dmarc_psd_name(st->rec.psd), st->rec.p[0] ? " p=" : "", st->rec.p);
	else if (st->kind == DMARC_ANS_TEMP)
		snprintf(buf, len, "DNS failure: %s", st->why);
	else if (st->why[0] != '\0')
		snprintf(buf, len, "%s, ignored", st->why);
	else
		snprintf(buf, len, "%s", st->dns);
	return buf;
}

int
report_dmarc(struct dns *dns, const char *domain, const char *prefix,
    struct dmarc_result *resp)
{
	struct dmarcwalk_step steps[DMARC_WALK_MAX];
	struct dmarc_result res;
	struct align *al;
	char psl[LIMIT_DOMAIN + 1], txt[LIMIT_REASON + 64];
	size_t n, i;

	if (dmarcwalk_run(dns, domain, &res, steps, &n) < 0) {
		printf("%s'%s' cannot be walked: not a domain name\n", prefix, domain);
		return -1;
	}
	printf("%stree walk (RFC 9989) from %s, %zu quer%s:\n", prefix, domain, n,
	    n == 1 ? "y" : "ies");
	for (i = 0; i < n; i++)
		printf("%s  %s: %s\n", prefix, steps[i].name,
		    step_text(&steps[i], txt, sizeof(txt)));
	if (!res.policy_known)
		printf("%spolicy: unknown, DNS failed (%s): receivers cannot "
		    "evaluate alignment now\n", prefix, res.why);
	else if (res.policy_found && res.policy.unusable)
		printf("%spolicy: _dmarc.%s applies, but %s\n", prefix, res.policy_domain,
		    res.why);
	else if (res.policy_found)
		printf("%spolicy: _dmarc.%s applies, adkim=%c (%s)\n", prefix,
		    res.policy_domain, res.adkim, res.adkim == 's' ?
		    "strict: d= must be the From: domain itself" :
		    "relaxed: d= may share the From: domain's organizational domain");
	else
		printf("%spolicy: none found by the tree walk: receivers apply no "
		    "DMARC policy to %s\n", prefix, domain);
	if (res.org_known)
		printf("%sorganizational domain (RFC 9989): %s (%s)\n", prefix, res.org,
		    res.org_rule);
	else
		printf("%sorganizational domain (RFC 9989): unknown, DNS failed (%s)\n",
		    prefix, res.why);
	if ((al = align_create(NULL)) != NULL) {
		if (align_org_domain(al, domain, psl, sizeof(psl)) == 0)
			printf("%sorganizational domain (RFC 7489, public suffix list): "
			    "%s%s\n", prefix, psl, res.org_known && strcmp(psl, res.org) != 0 ?
			    " - differs from the tree walk" : "");
		else
			printf("%sorganizational domain (RFC 7489, public suffix list): "
			    "none (%s is a public suffix)\n", prefix, domain);
		align_free(al);
	}
	if (resp != NULL)
		*resp = res;
	return 0;
}
