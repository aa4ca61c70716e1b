/*
 * authres.c - Authentication-Results formatting (see authres.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authres.h"

/*
 * Characters a property value may carry unquoted. Besides RFC 2045 token
 * characters this admits '/', '=', '@' and '?', as in base64 header.b values
 * and addresses: that is what deployed verifiers write and what parsers such
 * as python3-authres read (it drops a quoted header.b).
 */
static int
is_token_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	return strchr("()<>,;:\\\"[]", c) == NULL;
}

/* Always a quoted-string, of the first n bytes of s. */
static int
quoted_n(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p, *end = (const unsigned char *)s + n;

	if (buf_putc(out, '"') < 0)
		return -1;
	for (p = (const unsigned char *)s; p < end && *p; p++) {
		unsigned char c = *p;

		if (c < 0x20 || c >= 0x7f)
			c = '?';
		if ((c == '"' || c == '\\') && buf_putc(out, '\\') < 0)
			return -1;
		if (buf_putc(out, (char)c) < 0)
			return -1;
	}
	return buf_putc(out, '"');
}

/* Always a quoted-string (reason= texts). */
static int
quoted(struct buf *out, const char *s)
{
	return quoted_n(out, s, strlen(s));
}

int
authres_value(struct buf *out, const char *s)
{
	const unsigned char *p;
	int token = *s != '\0';

	for (p = (const unsigned char *)s; *p; p++)
		if (!is_token_char(*p))
			token = 0;
	if (token)
		return buf_puts(out, s);
	return quoted(out, s);
}

/* Domains and selectors were validated by the parser; still quote defensively. */
static int
prop(struct buf *out, const char *name, const char *val)
{
	if (val == NULL || *val == '\0')
		return 0;
	if (buf_printf(out, " %s=", name) < 0)
		return -1;
	return authres_value(out, val);
}

/*
 * header.i, an address. RFC 8601 allows a quoted-string there, but
 * parsers such as python3-authres read one only at the end of a result and
 * otherwise reject (or silently lose) it. So only a local-part that needs
 * it is quoted ("local"@domain, also an RFC 8601 pvalue), and a value
 * whose domain is not a plain dot-atom is left out.
 */
static int
prop_address(struct buf *out, const char *name, const char *val)
{
	const char *at, *p;

	if (val == NULL || (at = strrchr(val, '@')) == NULL || at[1] == '\0' ||
	    at[1] == '.')
		return 0;
	for (p = at + 1; *p; p++)
		if (!is_token_char((unsigned char)*p) || (*p == '.' && (p[1] == '.' ||
		    p[1] == '\0')))
			return 0;
	for (p = val; p < at && is_token_char((unsigned char)*p) && *p != '@'; p++)
		;
	if (buf_printf(out, " %s=", name) < 0)
		return -1;
	if (p < at && quoted_n(out, val, (size_t)(at - val)) < 0)
		return -1;
	if (p == at && buf_append(out, val, (size_t)(at - val)) < 0)
		return -1;
	return buf_puts(out, at);
}

int
authres_begin(struct buf *out, const char *authserv_id)
{
	if (buf_puts(out, "Authentication-Results: ") < 0 ||
	    authres_value(out, authserv_id) < 0)
		return -1;
	return 0;
}

/* Comment text: parentheses and backslashes cannot occur in what we put there. */
static int
comment(struct buf *out, const struct dkim_verdict *v)
{
	if (v->key_bits <= 0 && v->dnssec == NULL)
		return 0;
	if (buf_puts(out, " (") < 0)
		return -1;
	if (v->key_bits > 0 && buf_printf(out, "%s %d-bit key",
	    v->key_type == CRYPTO_ED25519 ? "ed25519" : "rsa", v->key_bits) < 0)
		return -1;
	if (v->dnssec != NULL && buf_printf(out, "%sDNSSEC %s",
	    v->key_bits > 0 ? "; " : "", v->dnssec) < 0)
		return -1;
	if (v->testing && buf_puts(out, "; test mode") < 0)
		return -1;
	return buf_putc(out, ')');
}

int
authres_add_dkim(struct buf *out, const struct dkim_verdict *v,
    const struct authres_align *al)
{
	const struct sig *sg = v->sig;

	if (buf_printf(out, ";\r\n\tdkim=%s", dkim_status_name(v->status)) < 0 ||
	    comment(out, v) < 0)
		return -1;
	if (buf_puts(out, " reason=") < 0 || quoted(out, v->reason) < 0)
		return -1;
	if (prop(out, "header.d", sg->d) < 0 || prop(out, "header.s", sg->s) < 0 ||
	    prop_address(out, "header.i", sg->i) < 0)
		return -1;
	if (sg->b64_prefix[0] != '\0') {
		char b[13];
		size_t k;

		str_copy(b, sg->b64_prefix, sizeof(b));
		/* Only base64 characters: a broken b= is not echoed. */
		for (k = 0; b[k] != '\0'; k++)
			if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789+/=", b[k]) == NULL)
				break;
		if (b[k] == '\0' && prop(out, "header.b", b) < 0)
			return -1;
	}
	if (prop(out, "header.a", sg->a_text) < 0)
		return -1;
	if (al != NULL && al->from_domain != NULL) {
		if (prop(out, "header.from", al->from_domain) < 0)
			return -1;
		/* The strongest rule d= meets, then the rule that applies. */
		/*
		 * The strongest rule d= meets, then the rule that applies; when
		 * DNS failed, "temperror" and no adkim rather than a guess.
		 */
		if (buf_printf(out, " policy.align=%s", al->strict ? "strict" :
		    al->relaxed ? "relaxed" : al->relaxed_unknown ? "temperror" : "no") < 0)
			return -1;
		if ((al->mode == 's' || al->mode == 'r') &&
		    buf_printf(out, " policy.adkim=%c", al->mode) < 0)
			return -1;
	}
	return 0;
}

int
authres_add_policy(struct buf *out, const struct authres_policy *p)
{
	if (prop(out, "policy.method", p->method) < 0)
		return -1;
	if (prop(out, "policy.org-domain", p->org) < 0)
		return -1;
	if ((p->adkim == 'r' || p->adkim == 's') &&
	    buf_printf(out, " policy.adkim=%c", p->adkim) < 0)
		return -1;
	return prop(out, "policy.adkim-source", p->source);
}

int
authres_add_none(struct buf *out, const char *reason)
{
	if (buf_puts(out, ";\r\n\tdkim=none reason=") < 0)
		return -1;
	return quoted(out, reason);
}

int
authres_add_unevaluated(struct buf *out, size_t more, int limit)
{
	char why[128];

	snprintf(why, sizeof(why), "%zu more signatures not evaluated (limit %d)", more,
	    limit);
	if (buf_puts(out, ";\r\n\tdkim=policy reason=") < 0)
		return -1;
	return quoted(out, why);
}

int
authres_add_verdict(struct buf *out, const char *verdict, const char *from_domain,
    const char *detail)
{
	if (buf_printf(out, ";\r\n\tdkim-alignment=%s", verdict) < 0)
		return -1;
	if (detail != NULL && (buf_puts(out, " reason=") < 0 ||
	    quoted(out, detail) < 0))
		return -1;
	return prop(out, "header.from", from_domain);
}

int
authres_claims_id(const char *value, const char *id)
{
	size_t n = strlen(id);

	/*
	 * [CFWS] before the id (RFC 8601 2.2): a comment must not hide a
	 * forged field from removal.
	 */
	for (;;) {
		if (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
			value++;
		else if (*value == '(') {
			int depth = 0;

			do {
				if (*value == '\\' && value[1] != '\0')
					value++;
				else if (*value == '(')
					depth++;
				else if (*value == ')')
					depth--;
				value++;
			} while (depth > 0 && *value != '\0');
		} else
			break;
	}
	if (*value == '"')
		value++;
	/*
	 * Ids are domain names: "mx.example.net." is the same host as
	 * "mx.example.net", whichever side carries the root's dot.
	 */
	if (n > 0 && id[n - 1] == '.')
		n--;
	if (n == 0 || strncasecmp(value, id, n) != 0)
		return 0;
	value += n;
	if (*value == '.')
		value++;
	return *value == '\0' || *value == ';' || *value == ' ' || *value == '\t' ||
	    *value == '"' || *value == '\r' || *value == '\n' || *value == '(';
}
