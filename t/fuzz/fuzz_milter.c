/*
 * fuzz_milter.c - the daemon's milter callback layer (milter.c, verify.c)
 * driven by milter-protocol commands, with no socket and no DNS.
 *
 * Why not the packets themselves: libmilter reads and decodes packets in
 * its own code (mi_rd_cmd and the dispatcher in libmilter's engine.c),
 * reachable only from smfi_main through a listening socket and a worker
 * thread per connection, and built without coverage instrumentation; what
 * dkimgate adds starts at the callbacks libmilter calls. So this harness
 * links the daemon's glue with libmilter's API replaced: smfi_register
 * captures the callback table, and the input is read as a sequence of
 * commands, each decoded into the callback libmilter would make for it
 * (same command letters, NUL-separated strings as on the wire). DNS is
 * replaced too (the dns.h functions are defined here, so dns.c is not
 * linked): key records come from fuzz_keys.h, _dmarc.fuzz.example says
 * adkim=s, names with a "tempfail" label time out, others do not exist.
 *
 * Input: commands of one letter and a 2-byte big-endian length, then the
 * data: O (negotiate: 4 bytes protocol flags), C (connect: family byte
 * '4', '6' or other, then host and address strings), D (macros: name,
 * value, ...), M (MAIL FROM: arguments), L (header: name, value), N (end
 * of header), B (body chunk), E (end of message), A (abort), Q (close;
 * the next command starts a new connection). At the end the connection
 * closes, as when the MTA goes away.
 *
 * Properties: no memory error or leak; every callback returns a status
 * libmilter knows; fields added are well formed (Authentication-Results
 * passes fuzz_check_authres, DKIM-Signature parses and has no CR or bare
 * LF outside folding); header deletions name Authentication-Results
 * fields that exist and claim our authserv-id; each verified message gets
 * exactly one Authentication-Results field; no log line carries CR or LF;
 * after the close no message is in flight.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "authres.h"
#include "conf.h"
#include "dns.h"
#include "fuzz.h"
#include "fuzz_keys.h"
#include "log.h"
#include "milter.h"
#include "sig.h"

#define AUTHSERV_ID "mx.fuzz.example"
#define MAX_MACROS 16

struct smfi_str {
	void *priv;
	char *macro_name[MAX_MACROS];
	char *macro_val[MAX_MACROS];
	size_t nmacros;
	int ar_seen;		/* Authentication-Results fields given this message */
	char *ar_ours;		/* per field: it claims our authserv-id */
	size_t ar_cap;
	int ar_added;		/* ... and added by the filter */
	int in_msg;
};

static struct smfiDesc desc;
static int registered;

/* ---- libmilter, replaced ---------------------------------------------- */

int
smfi_register(struct smfiDesc d)
{
	desc = d;
	registered = 1;
	return MI_SUCCESS;
}

int smfi_setconn(char *s) { return s ? MI_SUCCESS : MI_FAILURE; }
int smfi_settimeout(int t) { return MI_SUCCESS; }
size_t smfi_setmaxdatasize(size_t n) { return n; }
int smfi_opensocket(bool rm) { return MI_SUCCESS; }
int smfi_main(void) { return MI_SUCCESS; }
int smfi_stop(void) { return MI_SUCCESS; }
int smfi_setsymlist(SMFICTX *ctx, int where, char *list) { return MI_SUCCESS; }

int
smfi_setpriv(SMFICTX *ctx, void *p)
{
	ctx->priv = p;
	return MI_SUCCESS;
}

void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	size_t i;

	for (i = 0; i < ctx->nmacros; i++)
		if (strcmp(ctx->macro_name[i], name) == 0)
			return ctx->macro_val[i];
	return NULL;
}

int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *text)
{
	if (rcode == NULL || strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5'))
		fuzz_fail("reply code %s", rcode ? rcode : "(null)");
	if (text != NULL && strpbrk(text, "\r\n") != NULL)
		fuzz_fail("reply text with a line break: %s", text);
	return MI_SUCCESS;
}

static void
check_added(SMFICTX *ctx, const char *name, const char *value)
{
	struct buf f;
	char why[128];
	const char *p;

	/* libmilter takes LF folds; the wire form has CRLF. */
	buf_init(&f, LIMIT_OUT_HEADER * 2);
	if (buf_printf(&f, "%s: ", name) < 0)
		fuzz_fail("field name too long");
	for (p = value; *p; p++) {
		if (*p == '\r')
			fuzz_fail("CR in the value of an added %s: %s", name, value);
		if (*p == '\n' && p[1] != ' ' && p[1] != '\t')
			fuzz_fail("LF outside folding in an added %s: %s", name, value);
		if ((*p == '\n' && buf_putc(&f, '\r') < 0) || buf_putc(&f, *p) < 0)
			fuzz_fail("added field too long");
	}
	if (strcmp(name, "Authentication-Results") == 0) {
		/* ", ' '" after the colon: the daemon left it out (no LEADSPC). */
		if (fuzz_check_authres(buf_str(&f), f.len, (size_t)-1, why, sizeof(why)) < 0)
			fuzz_fail("%s in: %s", why, buf_str(&f));
		if (!authres_claims_id(value, AUTHSERV_ID))
			fuzz_fail("our Authentication-Results does not carry our id: %s", value);
		ctx->ar_added++;
	} else if (strcmp(name, "DKIM-Signature") == 0) {
		struct sig sg;
		char reason[LIMIT_REASON];

		memset(&sg, 0, sizeof(sg));
		if (sig_parse(&sg, f.data, f.len, time(NULL), reason, sizeof(reason)) !=
		    DKIM_PASS)
			fuzz_fail("added signature does not parse (%s): %s", reason, f.data);
		sig_free(&sg);
	} else
		fuzz_fail("unexpected field added: %s", name);
	buf_release(&f);
}

int
smfi_insheader(SMFICTX *ctx, int idx, char *name, char *value)
{
	if (!ctx->in_msg)
		fuzz_fail("header inserted outside end of message");
	check_added(ctx, name, value);
	return MI_SUCCESS;
}

int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	return smfi_insheader(ctx, -1, name, value);
}

int
smfi_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
	if (!ctx->in_msg)
		fuzz_fail("header changed outside end of message");
	if (strcasecmp(name, "Authentication-Results") != 0 || value != NULL)
		fuzz_fail("change of %s other than deleting an Authentication-Results", name);
	if (idx < 1 || idx > ctx->ar_seen)
		fuzz_fail("deleting Authentication-Results %d of %d", idx, ctx->ar_seen);
	if (!ctx->ar_ours[idx - 1])
		fuzz_fail("deleting Authentication-Results %d, which is not ours", idx);
	return MI_SUCCESS;
}

/* ---- DNS, replaced ------------------------------------------------------ */

struct dns {
	int unused;
};

struct dns_query {
	struct dns_result r;
};

struct dns *
dns_create(const char *resolver, const char *trust_anchor, int timeout_ms, char *err,
    size_t errlen)
{
	struct dns *d = calloc(1, sizeof(*d));

	if (d == NULL)
		snprintf(err, errlen, "out of memory");
	return d;
}

void
dns_free(struct dns *dns)
{
	free(dns);
}

static void
answer(const char *name, struct dns_result *r)
{
	static const char dmarc[] = "v=DMARC1; p=reject; adkim=s";
	const char *txt[8], *dk;
	size_t len[8], n = 0, i;
	char sel[LIMIT_DOMAIN + 1];

	memset(r, 0, sizeof(*r));
	r->dnssec = "insecure";
	str_copy(r->canon, name, sizeof(r->canon));
	if (strstr(name, "tempfail") != NULL) {
		r->status = DNS_TIMEOUT;
		str_copy(r->why, "timed out", sizeof(r->why));
		return;
	}
	if (strcasecmp(name, "_dmarc.fuzz.example") == 0) {
		txt[0] = dmarc;
		len[0] = sizeof(dmarc) - 1;
		n = 1;
	} else if ((dk = strstr(name, "._domainkey.")) != NULL &&
	    (size_t)(dk - name) < sizeof(sel)) {
		memcpy(sel, name, (size_t)(dk - name));
		sel[dk - name] = '\0';
		n = fuzz_keys_lookup(sel, dk + 12, txt, len, 8);
	}
	if (n == 0) {
		r->status = DNS_NXDOMAIN;
		str_copy(r->why, "NXDOMAIN", sizeof(r->why));
		return;
	}
	r->status = DNS_OK;
	r->n = n;
	if ((r->txt = calloc(n, sizeof(*r->txt))) == NULL ||
	    (r->txtlen = calloc(n, sizeof(*r->txtlen))) == NULL)
		fuzz_fail("out of memory");
	for (i = 0; i < n; i++) {
		r->txt[i] = fuzz_strndup((const uint8_t *)txt[i], len[i]);
		r->txtlen[i] = len[i];
	}
}

struct dns_query *
dns_txt_start(struct dns *dns, const char *name)
{
	struct dns_query *q = calloc(1, sizeof(*q));

	if (q == NULL)
		fuzz_fail("out of memory");
	answer(name, &q->r);
	return q;
}

const struct dns_result *
dns_query_wait(struct dns_query *q)
{
	return &q->r;
}

void
dns_result_clear(struct dns_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->txt[i]);
	free(r->txt);
	free(r->txtlen);
	r->txt = NULL;
	r->txtlen = NULL;
	r->n = 0;
}

void
dns_query_free(struct dns_query *q)
{
	if (q == NULL)
		return;
	dns_result_clear(&q->r);
	free(q);
}

void
dns_txt(struct dns *dns, const char *name, struct dns_result *out)
{
	answer(name, out);
}

void
dns_query_type(struct dns *dns, const char *name, int rrtype, struct dns_result *out)
{
	answer(name, out);
}

const char *
dns_status_name(enum dns_status st)
{
	return st == DNS_OK ? "ok" : "error";
}

/* Every answer is immediate: nothing is ever outstanding or refused. */
int
dns_outstanding(const struct dns *dns)
{
	(void)dns;
	return 0;
}

unsigned long
dns_refused(const struct dns *dns)
{
	(void)dns;
	return 0;
}

void
dns_set_max_outstanding(struct dns *dns, int max)
{
	(void)dns;
	(void)max;
}

/*
 * ---- logging, replaced: the line is built and cleaned as log.c does,
 * checked, not written (t/unit/test_log checks log.c itself) ----
 */

void
log_open(const char *ident, int to_stderr)
{
}

void
log_msg(int prio, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_clean(line);	/* as log.c does */
	if (strpbrk(line, "\r\n") != NULL)
		fuzz_fail("log line with a line break: %s", line);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", line);
}

/* ---- the daemon, set up once ------------------------------------------- */

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	struct buf path, text, errors;
	struct conf *c;
	struct snap *s;
	char err[256];
	FILE *fp;
	int fd;

	buf_init(&path, 4096);
	buf_init(&text, 8192);
	buf_init(&errors, 8192);
	if (buf_printf(&path, "%s/fuzz_milter.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 ||
	    (fd = mkstemp(path.data)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		fuzz_fail("cannot create a scratch file");
	/* Keys of t/data (mode 644 in a checkout, hence allow_readable_keys). */
	if (buf_printf(&text,
	    "authserv_id = \"" AUTHSERV_ID "\";\n"
	    "allow_readable_keys = true;\nkey_check = \"off\";\nstate_dir = \"\";\n"
	    "sign = { daemon_names = [ \"ORIGINATING\" ]; };\n"
	    "keys = (\n"
	    "  { id = \"ed\"; domain = \"fuzz.example\"; selector = \"ed\";"
	    " file = \"%s/ed25519.pem\"; },\n"
	    "  { id = \"rsa\"; domain = \"fuzz.example\"; selector = \"rsa\";"
	    " file = \"%s/rsa1024.pem\"; }\n);\n"
	    "signing_table = (\n"
	    "  { from = \"fuzz.example\"; keys = [ \"ed\", \"rsa\" ]; },\n"
	    "  { from = \"*.fuzz.example\"; keys = [ \"ed\" ]; },\n"
	    "  { from = \"*\"; keys = [ \"rsa\" ]; }\n);\n"
	    "users = ( { user = \"alice\"; from = [ \"alice@fuzz.example\" ]; } );\n"
	    "verify = { max_signatures = 8; };\n"
	    "dns = { trust_anchor = \"\"; };\n",
	    fuzz_data_dir(), fuzz_data_dir()) < 0 ||
	    fwrite(text.data, 1, text.len, fp) != text.len || fclose(fp) != 0)
		fuzz_fail("cannot write %s", path.data);
	c = conf_load(path.data, CONF_KEYS_DECODE, &errors);
	unlink(path.data);
	if (c == NULL)
		fuzz_fail("configuration refused: %s", buf_str(&errors));
	if ((s = snap_create(c, NULL, err, sizeof(err))) == NULL)
		fuzz_fail("snapshot: %s", err);
	if (milter_setup(s, err, sizeof(err)) < 0 || !registered)
		fuzz_fail("milter_setup: %s", err);
	buf_release(&path);
	buf_release(&text);
	buf_release(&errors);
}

/* ---- the commands ------------------------------------------------------- */

static void
check_status(sfsistat st, char cmd)
{
	if (st != SMFIS_CONTINUE && st != SMFIS_REJECT && st != SMFIS_DISCARD &&
	    st != SMFIS_ACCEPT && st != SMFIS_TEMPFAIL && st != SMFIS_NOREPLY &&
	    st != SMFIS_SKIP)
		fuzz_fail("command %c: status %d", cmd, (int)st);
}

static void
macros_clear(SMFICTX *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nmacros; i++) {
		free(ctx->macro_name[i]);
		free(ctx->macro_val[i]);
	}
	ctx->nmacros = 0;
}

static void
macro_set(SMFICTX *ctx, char *name, char *val)
{
	size_t i;

	for (i = 0; i < ctx->nmacros; i++)
		if (strcmp(ctx->macro_name[i], name) == 0) {
			free(ctx->macro_name[i]);
			free(ctx->macro_val[i]);
			ctx->macro_name[i] = name;
			ctx->macro_val[i] = val;
			return;
		}
	if (ctx->nmacros == MAX_MACROS) {
		free(name);
		free(val);
		return;
	}
	ctx->macro_name[ctx->nmacros] = name;
	ctx->macro_val[ctx->nmacros++] = val;
}

/* The connection ends: libmilter calls close (after abort mid-message). */
static void
conn_close(SMFICTX *ctx)
{
	if (ctx->in_msg)
		check_status(desc.xxfi_abort(ctx), 'A');
	check_status(desc.xxfi_close(ctx), 'Q');
	macros_clear(ctx);
	free(ctx->ar_ours);
	memset(ctx, 0, sizeof(*ctx));
	if (milter_inflight() != 0)
		fuzz_fail("%d messages in flight after the connection closed",
		    milter_inflight());
}

static void
command(SMFICTX *ctx, char cmd, const uint8_t *p, size_t n)
{
	struct fuzz_rd rd = { p, n };
	unsigned long f[4], pf[4];
	char *s1, *s2, *argv[8];
	size_t i, k;
	sfsistat st;

	switch (cmd) {
	case 'O':
		f[0] = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
		f[1] = ((unsigned long)fuzz_byte(&rd) << 24) | (fuzz_byte(&rd) << 16) |
		    (fuzz_byte(&rd) << 8) | fuzz_byte(&rd);
		f[2] = f[3] = 0;
		check_status(desc.xxfi_negotiate(ctx, f[0], f[1], f[2], f[3], &pf[0], &pf[1],
		    &pf[2], &pf[3]), cmd);
		break;
	case 'C': {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		struct sockaddr *sa = NULL;
		unsigned fam = fuzz_byte(&rd);

		s1 = fuzz_str(&rd, 256);
		s2 = fuzz_str(&rd, 256);
		memset(&sin, 0, sizeof(sin));
		memset(&sin6, 0, sizeof(sin6));
		if (fam == '4' && inet_pton(AF_INET, s2, &sin.sin_addr) == 1) {
			sin.sin_family = AF_INET;
			sa = (struct sockaddr *)&sin;
		} else if (fam == '6' && inet_pton(AF_INET6, s2, &sin6.sin6_addr) == 1) {
			sin6.sin6_family = AF_INET6;
			sa = (struct sockaddr *)&sin6;
		}
		check_status(desc.xxfi_connect(ctx, s1, sa), cmd);
		free(s1);
		free(s2);
		break;
	}
	case 'D':
		while (rd.n > 0) {
			s1 = fuzz_str(&rd, 64);
			s2 = fuzz_str(&rd, 1024);
			macro_set(ctx, s1, s2);
		}
		break;
	case 'M':
		for (k = 0; k < 7 && rd.n > 0; k++)
			argv[k] = fuzz_str(&rd, 1024);
		if (k == 0)
			argv[k++] = fuzz_strndup((const uint8_t *)"<>", 2);
		argv[k] = NULL;
		ctx->in_msg = 1;
		ctx->ar_seen = ctx->ar_added = 0;
		check_status(desc.xxfi_envfrom(ctx, argv), cmd);
		for (i = 0; i < k; i++)
			free(argv[i]);
		break;
	case 'L':
		s1 = fuzz_str(&rd, 256);
		s2 = fuzz_strndup(rd.p, rd.n);	/* the value: the rest, up to a NUL */
		if (strcasecmp(s1, "Authentication-Results") == 0) {
			if ((size_t)ctx->ar_seen == ctx->ar_cap) {
				size_t cap = ctx->ar_cap ? 2 * ctx->ar_cap : 16;
				char *o = realloc(ctx->ar_ours, cap);

				if (o == NULL)
					fuzz_fail("out of memory");
				ctx->ar_ours = o;
				ctx->ar_cap = cap;
			}
			ctx->ar_ours[ctx->ar_seen++] = (char)authres_claims_id(s2, AUTHSERV_ID);
		}
		check_status(desc.xxfi_header(ctx, s1, s2), cmd);
		free(s1);
		free(s2);
		break;
	case 'N':
		check_status(desc.xxfi_eoh(ctx), cmd);
		break;
	case 'B': {
		unsigned char *copy = (unsigned char *)fuzz_memdup(p, n);

		check_status(desc.xxfi_body(ctx, copy, n), cmd);
		free(copy);
		break;
	}
	case 'E':
		st = desc.xxfi_eom(ctx);
		check_status(st, cmd);
		if (ctx->ar_added > 1)
			fuzz_fail("%d Authentication-Results fields added", ctx->ar_added);
		ctx->in_msg = 0;
		ctx->ar_seen = ctx->ar_added = 0;
		break;
	case 'A':
		check_status(desc.xxfi_abort(ctx), cmd);
		ctx->in_msg = 0;
		break;
	case 'Q':
		conn_close(ctx);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SMFICTX ctx;
	size_t i = 0;

	if (!registered)
		setup();
	memset(&ctx, 0, sizeof(ctx));
	while (i + 3 <= size) {
		char cmd = (char)data[i];
		size_t n = ((size_t)data[i + 1] << 8) | data[i + 2];

		i += 3;
		if (n > size - i)
			n = size - i;
		command(&ctx, cmd, data + i, n);
		i += n;
	}
	conn_close(&ctx);
	return 0;
}
