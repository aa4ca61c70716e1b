/*
 * milter_msg.h - what the libmilter glue (milter.c, verify.c) shares:
 * the per-connection and per-message contexts and a few helpers. Private
 * to the glue; includes libmilter's header.
 */
#ifndef DKIMGATE_MILTER_MSG_H
#define DKIMGATE_MILTER_MSG_H

#include <arpa/inet.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "decide.h"
#include "authres.h"
#include "dkim.h"
#include "dmarcwalk.h"
#include "dns.h"
#include "snap.h"

struct msg {
	struct snap *snap;
	int sign;
	char qid[64];
	char rule[200];
	char user[256];
	struct dkim *d;
	int dkim_failed;
	int eoh_seen;			/* end of header handled */
	int *ar_index;			/* our-id A-R fields to delete (1-based) */
	size_t nar, ar_alloc;
	int ar_lost;			/* one could not be remembered: tempfail */
	int ar_seen;			/* A-R fields seen so far */
	int hdr_logged;			/* the oversized header was logged */
	struct dns_query *q[LIMIT_SIGNATURES];
	struct dns_query *dmarc_q, *dmarc_org_q;
	char from_addr[LIMIT_DOMAIN + 130];
	char from_domain[LIMIT_DOMAIN + 1];
	char from_org[LIMIT_DOMAIN + 1];
	int nfrom;			/* addresses in the (first) From: field; -1 bad */
	const char *from_why;		/* why it does not parse (static text) */
	/* rfc9989 alignment: tree walks, one per distinct domain (verify_align.c) */
	struct dmarcwalk_pool *walk_pool;	/* their queries, each name once */
	struct dmarcwalk *walks[LIMIT_SIGNATURES + 1];
	char walk_domain[LIMIT_SIGNATURES + 1][LIMIT_DOMAIN + 1];
	size_t nwalks;
	signed char walk_of[LIMIT_SIGNATURES];	/* signature -> walks[], -1 none */
	size_t from_fields;
	time_t start;
	struct timespec eom_start;	/* CLOCK_MONOTONIC at end of message */
	struct decide_keys keys;	/* sign mode: the keys chosen at end of header */
	unsigned char sig_alg[LIMIT_SIGNERS];	/* each signer's enum crypto_type */
};

struct conn {
	char addr[INET6_ADDRSTRLEN + 8];
	char daemon[128];
	unsigned long actions;	/* SMFIF_* the MTA lets us use */
	int leadspc;		/* MTA keeps the space after the colon */
	int nr_hdr, nr_body;	/* MTA does not wait for these replies */
	struct msg *msg;
};

/* milter_msg.c: helpers for the callbacks and the verifying end. */
/*
 * Why smfi_insheader of field failed (the MTA does not allow it, or the
 * MTA went away before the reply), as a log reason into why.
 */
void milter_insheader_failed(const struct conn *c, const struct msg *m, const char *field,
    char *why, size_t len);
/* The message's queue id, or "NOQUEUE". */
const char *milter_qid(const struct msg *m);
/* Reply for a configured action; text is "x.y.z words". */
sfsistat milter_action_reply(SMFICTX *ctx, enum conf_action a, const char *text);
/* A CRLF-folded field's value as libmilter wants it (LF folds); caller frees. */
char *milter_value(const char *field, int leadspc);

/* verify.c: start the key lookups at end of header; decide at end of message. */
void verify_lookups(struct msg *m);
sfsistat verify_eom(SMFICTX *ctx, struct conn *c, struct msg *m);

/*
 * verify_align.c: DMARC lookups for alignment, started at end of header
 * (after the key lookups); the From: domain's facts and each signature's
 * alignment at end of message; valign_free releases the walks.
 */
struct valign {
	const char *method;		/* "rfc9989" or "rfc7489" */
	char adkim;			/* 'r', 's'; '?' when a DNS failure hid it */
	char source[LIMIT_DOMAIN + 8];	/* "_dmarc.NAME" it came from, "none", "" unknown */
	int org_known;
	char org[LIMIT_DOMAIN + 1];	/* the From: domain's Organizational Domain */
	size_t queries;			/* DNS queries the From: walk used (0: cached) */
	size_t sent;			/* distinct _dmarc queries all walks sent */
	char why[LIMIT_REASON];		/* what is unknown, and why */
};
enum valign_state { VALIGN_NO, VALIGN_YES, VALIGN_UNKNOWN, VALIGN_UNCHECKED };
void valign_start(struct msg *m);
void valign_message(struct msg *m, struct valign *va);
/*
 * Signature i with d= d: fills al (for authres_add_dkim) and d_org (d='s
 * Organizational Domain, "" unknown); whether d= is aligned under the
 * adkim that applies (va->why gets the failure when a d= walk met one).
 * VALIGN_UNCHECKED: a signature that was not verified.
 */
enum valign_state valign_signature(struct msg *m, struct valign *va, size_t i,
    const char *d, struct authres_align *al, char *d_org, size_t d_orglen);
void valign_free(struct msg *m);

#endif
