/*
 * keyrec.c - key record parsing (see keyrec.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "keyrec.h"
#include "bounds.h"
#include "tagval.h"

int
keyrec_parse(struct keyrec *kr, const char *txt, size_t len, char *reason,
    size_t reasonlen)
{
	struct tagval tv;
	const struct tagval_pair *p;
	const char *err;
	unsigned char der[LIMIT_KEY_RECORD];
	long n;
	char why[200];

	memset(kr, 0, sizeof(*kr));
	kr->sha256_ok = kr->sha1_ok = kr->email_ok = 1;
	if (tagval_parse(&tv, txt, len, &err) < 0) {
		snprintf(reason, reasonlen, "key record syntax error: %s", err);
		return -1;
	}
	/* v=, when present, must come first and be DKIM1. */
	if ((p = tagval_get(&tv, "v")) != NULL) {
		if (p != &tv.pairs[0] || !tagval_is(p, "DKIM1")) {
			str_copy(reason, "key record has a bad version (v= must be DKIM1, first)",
			    reasonlen);
			return -1;
		}
		kr->has_version = 1;
	}
	kr->type = CRYPTO_RSA;
	if ((p = tagval_get(&tv, "k")) != NULL) {
		if (tagval_is(p, "rsa"))
			kr->type = CRYPTO_RSA;
		else if (tagval_is(p, "ed25519"))
			kr->type = CRYPTO_ED25519;
		else {
			str_copy(reason, "key record has an unknown key type (k=)", reasonlen);
			return -1;
		}
	}
	if ((p = tagval_get(&tv, "h")) != NULL) {
		kr->sha256_ok = tagval_list_has(p, "sha256");
		kr->sha1_ok = tagval_list_has(p, "sha1");
		if (!kr->sha256_ok && !kr->sha1_ok) {
			str_copy(reason, "key record does not allow sha256 (h=)", reasonlen);
			return -1;
		}
	}
	if ((p = tagval_get(&tv, "s")) != NULL && !tagval_list_has(p, "*") &&
	    !tagval_list_has(p, "email")) {
		kr->email_ok = 0;
		str_copy(reason, "key record is not for e-mail (s=)", reasonlen);
		return -1;
	}
	if ((p = tagval_get(&tv, "t")) != NULL) {
		kr->testing = tagval_list_has(p, "y");
		kr->strict = tagval_list_has(p, "s");
	}
	if ((p = tagval_get(&tv, "p")) == NULL) {
		str_copy(reason, "key record has no public key (p= missing)", reasonlen);
		return -1;
	}
	n = crypto_b64_decode(p->val, p->vlen, der, sizeof(der));
	if (n < 0) {
		str_copy(reason, "key record p= is not valid base64", reasonlen);
		return -1;
	}
	if (n == 0) {
		kr->revoked = 1;
		return 0;
	}
	if (crypto_key_public(kr->type, der, (size_t)n, &kr->key, why, sizeof(why)) < 0) {
		snprintf(reason, reasonlen, "key record p= unusable: %s", why);
		return -1;
	}
	kr->bits = crypto_key_bits(kr->key);
	return 0;
}

void
keyrec_clear(struct keyrec *kr)
{
	crypto_key_unref(kr->key);
	kr->key = NULL;
}
