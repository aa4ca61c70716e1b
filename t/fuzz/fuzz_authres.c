/*
 * fuzz_authres.c - Authentication-Results output (authres.c).
 *
 * Everything a sender controls that reaches the field (d=, s=, i=, the
 * start of b=, a=, reasons, the From: domain) and the configured
 * authserv-id come from the input, unvalidated, so the formatter's own
 * quoting is what is tested. Input: the authserv-id, then up to 16
 * results, each a kind byte and its strings (NUL-separated; see build()).
 * Properties: the field passes fuzz_check_authres (no CR/LF outside
 * folding, balanced quotes and comments, one ';' per result); an
 * authserv-id that is a plain token (other than ".") is recognised by
 * authres_claims_id in the field we wrote; authres_claims_id on arbitrary
 * text is memory-safe.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "fuzz.h"

#define MAX_RESULTS 16

static const char *const verdicts[] = {
	"aligned-pass", "unaligned-pass", "fail", "none"
};

static const char *const dnssec_states[] = { NULL, "secure", "insecure", "bogus" };

static void
fill(char *dst, size_t dstlen, struct fuzz_rd *r)
{
	char *s = fuzz_str(r, dstlen - 1);

	str_copy(dst, s, dstlen);
	free(s);
}

/* One dkim= result from the input. -1 when the buffer filled up. */
static int
add_dkim(struct buf *out, struct fuzz_rd *r)
{
	struct sig sg;
	struct dkim_verdict v;
	struct authres_align al;
	unsigned flags = fuzz_byte(r);
	char *from;
	int rc;

	memset(&sg, 0, sizeof(sg));
	memset(&v, 0, sizeof(v));
	memset(&al, 0, sizeof(al));
	v.status = (enum dkim_status)(fuzz_byte(r) % 7);
	v.key_type = (flags & 1) ? CRYPTO_ED25519 : CRYPTO_RSA;
	v.key_bits = (flags & 2) ? (int)(fuzz_byte(r) * 64) : 0;
	v.testing = (flags & 4) != 0;
	v.dnssec = dnssec_states[(flags >> 3) & 3];
	v.sig = &sg;
	fill(v.reason, sizeof(v.reason), r);
	fill(sg.d, sizeof(sg.d), r);
	fill(sg.s, sizeof(sg.s), r);
	fill(sg.i, sizeof(sg.i), r);
	fill(sg.b64_prefix, sizeof(sg.b64_prefix), r);
	fill(sg.a_text, sizeof(sg.a_text), r);
	from = fuzz_str(r, LIMIT_DOMAIN);
	al.from_domain = from;
	al.relaxed = (flags & 32) != 0;
	al.strict = (flags & 64) != 0;
	al.mode = (flags & 128) ? 's' : 'r';
	rc = authres_add_dkim(out, &v, (flags & 16) ? &al : NULL);
	free(from);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rd r = { data, size };
	struct buf out;
	char *id = fuzz_str(&r, 512), *s1, *s2, why[128];
	size_t nres = 0, i;
	int rc = 0, token = id[0] != '\0';

	buf_init(&out, LIMIT_OUT_HEADER);
	if (authres_begin(&out, id) < 0)
		rc = -1;
	while (rc == 0 && r.n > 0 && nres < MAX_RESULTS) {
		switch (fuzz_byte(&r) % 3) {
		case 0:
			rc = add_dkim(&out, &r);
			break;
		case 1:
			s1 = fuzz_str(&r, 512);
			rc = authres_add_none(&out, s1);
			free(s1);
			break;
		default:
			i = fuzz_byte(&r) % 4;
			s1 = fuzz_str(&r, 512);
			s2 = fuzz_str(&r, LIMIT_DOMAIN);
			rc = authres_add_verdict(&out, verdicts[i], s2[0] ? s2 : NULL,
			    s1[0] ? s1 : NULL);
			free(s1);
			free(s2);
			break;
		}
		if (rc == 0)
			nres++;
	}
	/* A full buffer leaves a partial result: only complete fields are checked. */
	if (rc == 0) {
		if (fuzz_check_authres(buf_str(&out), out.len, nres, why, sizeof(why)) < 0)
			fuzz_fail("%s in: %s", why, buf_str(&out));
		/* Ids compare as domain names: a lone "." names nothing. */
		for (i = 0; id[i] != '\0'; i++)
			if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f ||
			    strchr("()<>,;:\\\"[]@=/?", id[i]) != NULL)
				token = 0;
		if (strcmp(id, ".") == 0)
			token = 0;
		if (token && !authres_claims_id(buf_str(&out) +
		    strlen("Authentication-Results:"), id))
			fuzz_fail("our own field is not recognised as ours: %s", buf_str(&out));
	}
	/* Whatever is left: an arbitrary field value and id. */
	s1 = fuzz_str(&r, 4096);
	s2 = fuzz_str(&r, 512);
	(void)authres_claims_id(s1, s2);
	free(s1);
	free(s2);
	free(id);
	buf_release(&out);
	return 0;
}
