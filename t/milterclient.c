/*
 * NAME
 *	milterclient - play the MTA side of the milter protocol, for tests
 *	and benchmarks
 * SYNOPSIS
 *	milterclient [options] -s SOCKET MESSAGE_FILE...
 *	milterclient --bench [-C N] [-N TOTAL] [-T SECONDS] [options]
 *		-s SOCKET MESSAGE_FILE...
 * DESCRIPTION
 *	Connects to a milter the way Postfix (or, with --order sendmail,
 *	sendmail) does, sends each message file through it and prints one
 *	machine-parsable line per action the milter took; usage() below is
 *	the reference for options and output.  The wire protocol (4-byte
 *	big-endian length, command byte, data) is implemented here; this
 *	program does not link libmilter, which is the milter-side library.
 *
 *	Choices made to resemble the real MTAs (Postfix src/milter/milter8.c
 *	and sendmail src/milter.c were read for this):
 *	- A folded header value is sent with a bare "\n" between its lines
 *	  and without the final CRLF: both MTAs keep headers internally with
 *	  LF line ends ("Sendmail 8 sends multi-line headers as text
 *	  separated by newline", milter8.c).  The header name is sent
 *	  without any white space before the colon.
 *	- Without SMFIP_HDR_LEADSPC one space (not a tab) after the colon is
 *	  removed; with it the value is sent exactly as in the file.
 *	- The body is sent with CRLF line ends in chunks of exactly the chunk
 *	  size (65535 by default, as both MTAs do), the last one shorter; an
 *	  empty body sends no chunk.  A file whose last line lacks a newline
 *	  is given a CRLF, as it would have had over SMTP.
 *	- Macros of a stage are sent even when the milter asked not to get
 *	  that event (both MTAs do), but never for an event skipped after
 *	  SMFIR_SKIP.  Only defined macros are sent.  Macro lists that the
 *	  milter requests in its negotiation reply (smfi_setsymlist) replace
 *	  the default list of that stage; values come from -M or built-ins.
 *	- Postfix order: Postfix's default macro lists; the end-of-header
 *	  macros are also sent before every header and the end-of-message
 *	  macros before every body chunk; "i" is undefined until the first
 *	  recipient has been accepted (smtpd_delay_open_until_valid_rcpt);
 *	  SMFIC_ABORT follows every message (Postfix resets the transaction
 *	  after DATA) except one the milter rejected at MAIL FROM.
 *	- Sendmail order: sendmail's default macro lists ("i" from MAIL FROM,
 *	  {msg_id} at end of message); no macros with headers or body;
 *	  SMFIC_ABORT only after a message rejected, discarded or
 *	  tempfailed before end of message.
 *	- A milter reply with a command this program does not expect at that
 *	  point is printed as "unknown" and the wait goes on (bounded by -t).
 *	- --order adds {client_addr}, {client_name} and {client_port} to the
 *	  connect macros, which real sites commonly configure.
 *
 *	Bench mode keeps the client cheap: files are parsed once at start,
 *	each thread reuses its buffers, and packets are coalesced into one
 *	write per round trip.
 * DIAGNOSTICS
 *	Exit 0 when every conversation completed (whatever the verdicts),
 *	1 on a protocol error, unexpected close or timeout (a message on
 *	stderr), 2 on a usage error.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Commands, MTA to milter (sendmail include/libmilter/mfdef.h). */
#define SMFIC_ABORT		'A'
#define SMFIC_BODY		'B'
#define SMFIC_CONNECT		'C'
#define SMFIC_MACRO		'D'
#define SMFIC_BODYEOB		'E'
#define SMFIC_HELO		'H'
#define SMFIC_HEADER		'L'
#define SMFIC_MAIL		'M'
#define SMFIC_EOH		'N'
#define SMFIC_OPTNEG		'O'
#define SMFIC_QUIT		'Q'
#define SMFIC_RCPT		'R'
#define SMFIC_DATA		'T'

/* Replies, milter to MTA. */
#define SMFIR_ADDRCPT		'+'
#define SMFIR_DELRCPT		'-'
#define SMFIR_ADDRCPT_PAR	'2'
#define SMFIR_SHUTDOWN		'4'
#define SMFIR_ACCEPT		'a'
#define SMFIR_REPLBODY		'b'
#define SMFIR_CONTINUE		'c'
#define SMFIR_DISCARD		'd'
#define SMFIR_CHGFROM		'e'
#define SMFIR_CONN_FAIL		'f'
#define SMFIR_ADDHEADER		'h'
#define SMFIR_INSHEADER		'i'
#define SMFIR_CHGHEADER		'm'
#define SMFIR_PROGRESS		'p'
#define SMFIR_QUARANTINE	'q'
#define SMFIR_REJECT		'r'
#define SMFIR_SKIP		's'
#define SMFIR_TEMPFAIL		't'
#define SMFIR_REPLYCODE		'y'

/* Protocol steps (SMFIP_*). */
#define SMFIP_NOCONNECT		0x00000001U
#define SMFIP_NOHELO		0x00000002U
#define SMFIP_NOMAIL		0x00000004U
#define SMFIP_NORCPT		0x00000008U
#define SMFIP_NOBODY		0x00000010U
#define SMFIP_NOHDRS		0x00000020U
#define SMFIP_NOEOH		0x00000040U
#define SMFIP_NR_HDR		0x00000080U
#define SMFIP_NOUNKNOWN		0x00000100U
#define SMFIP_NODATA		0x00000200U
#define SMFIP_NR_CONN		0x00001000U
#define SMFIP_NR_HELO		0x00002000U
#define SMFIP_NR_MAIL		0x00004000U
#define SMFIP_NR_RCPT		0x00008000U
#define SMFIP_NR_DATA		0x00010000U
#define SMFIP_NR_EOH		0x00040000U
#define SMFIP_NR_BODY		0x00080000U
#define SMFIP_HDR_LEADSPC	0x00100000U

#define MC_PROTO_VERSION	6		/* protocol version offered */
#define MC_PROTO_OFFER		0x001FFFFFU	/* every step up to LEADSPC */
#define MC_ACTIONS_OFFER	0x000001FFU	/* every SMFIF_* action */

/* Limits, named together. */
#define MC_CHUNK_MAX		65535		/* protocol body chunk maximum */
#define MC_MAX_REPLY		(1024 * 1024)	/* largest reply accepted */
#define MC_MAX_MSG		(64 * 1024 * 1024)	/* largest message file */
#define MC_MAX_OUT		(MC_MAX_MSG + 1024 * 1024)
#define MC_FLUSH_AT		(64 * 1024)	/* flush queued packets past this */
#define MC_MAX_FILES		1024
#define MC_MAX_RCPT		100
#define MC_MAX_USERMAC		128
#define MC_MAX_LIST		64		/* macro names per stage */
#define MC_MAX_MNAME		64		/* bytes in one macro name */
#define MC_MAX_ENVELOPE		2048		/* MAIL/RCPT wire argument */
#define MC_MAX_CODE		(64 * 1024)	/* SMFIR_REPLYCODE text */
#define MC_MAX_BENCH		(50UL * 1000 * 1000)
#define MC_BENCH_TIMED		(10UL * 1000 * 1000)	/* -T without -N */

/* Stages: the first MC_NMACRO also index macro lists. */
enum {
	ST_CONNECT, ST_HELO, ST_ENVFROM, ST_ENVRCPT, ST_DATA, ST_EOH, ST_EOM,
	ST_HEADER, ST_BODY, ST_OPTNEG, ST_COUNT
};
#define MC_NMACRO	7

static const char *const stage_name[ST_COUNT] = {
	"connect", "helo", "envfrom", "envrcpt", "data", "eoh", "eom",
	"header", "body", "optneg"
};

/* SMFIM_* code (index) to stage: CONNECT HELO ENVFROM ENVRCPT DATA EOM EOH */
static const int smfim_stage[7] = {
	ST_CONNECT, ST_HELO, ST_ENVFROM, ST_ENVRCPT, ST_DATA, ST_EOM, ST_EOH
};

enum { ORDER_POSTFIX, ORDER_SENDMAIL };

static const char *const default_macros[2][MC_NMACRO] = {
	{	/* postconf -d milter_*_macros, plus client address */
		"j {daemon_name} {daemon_addr} v _ {client_addr} {client_name} "
		"{client_port}",
		"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
		"i {auth_type} {auth_authen} {auth_author} {mail_addr} "
		"{mail_host} {mail_mailer}",
		"i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
		"i", "i", "i"
	},
	{	/* sendmail cf/README Milter.macros.*, plus client address */
		"j _ {daemon_name} {if_name} {if_addr} {client_addr} "
		"{client_name} {client_port}",
		"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
		"i {auth_type} {auth_authen} {auth_ssf} {auth_author} "
		"{mail_mailer} {mail_host} {mail_addr}",
		"{rcpt_mailer} {rcpt_host} {rcpt_addr}",
		"", "", "{msg_id}"
	}
};

/* Results of a protocol step. */
#define R_FAIL	(-1)	/* I/O or protocol error, already reported */
#define R_GO	0	/* go on */
#define R_MSG	1	/* this message is finished */
#define R_CONN	2	/* the milter ended the connection */
#define R_GONE	3	/* we closed the connection on request */
#define R_RCPT	4	/* this recipient was refused */

/* A growable byte buffer with a hard maximum; data is not terminated. */
struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;
	size_t max;
};

struct header {
	size_t name_off;	/* field name in message data */
	size_t name_len;
	size_t raw_off;		/* whole field including its last CRLF */
	size_t raw_len;
	size_t wire_off;	/* name\0value\0, one leading space removed */
	size_t wire_len;
	size_t lwire_off;	/* name\0value\0, value as in the file */
	size_t lwire_len;
};

/* A message file, parsed once; read-only afterwards. */
struct message {
	const char *path;
	unsigned char *data;	/* the message with CRLF line ends */
	size_t len;
	struct header *hdr;
	size_t nhdr;
	size_t body_off;
	struct buf wire;	/* header packet payloads */
	char *msgid;		/* Message-ID value for {msg_id}, or NULL */
};

struct envaddr {
	unsigned char wire[MC_MAX_ENVELOPE];	/* <addr>\0arg\0... */
	size_t wire_len;
	char addr[512];		/* without angle brackets */
	char host[256];		/* part after the last @, or empty */
};

struct usermacro {
	int stage;		/* -1: any stage */
	char name[MC_MAX_MNAME];	/* normalized: x or {name} */
	const char *value;	/* NULL: do not send */
};

struct namelist {
	size_t n;
	char name[MC_MAX_LIST][MC_MAX_MNAME];
};

struct trigger {
	int stage;		/* -1: none */
	unsigned long msgno;	/* 0: every message */
};

struct opts {
	struct sockaddr_storage sa;
	socklen_t salen;
	int family;
	int order;
	struct usermacro umac[MC_MAX_USERMAC];
	size_t numac;
	struct namelist list[MC_NMACRO];
	char client_addr[INET6_ADDRSTRLEN];
	char client_name[256];
	char client_port[8];
	char underscore[512];
	const char *daemon_name;
	const char *mta_name;
	struct buf connect_wire;
	struct buf helo_wire;
	struct envaddr from;
	struct envaddr rcpt[MC_MAX_RCPT];
	size_t nrcpt;
	size_t chunk;
	int random_chunks;
	unsigned long long seed;
	unsigned long repeat;
	unsigned long per_conn;
	const char *outpath;
	int timeout;
	int quickack;
	int verbose;
	int show_optneg;
	int timing;
	long disconnect_delay_ms;
	struct trigger abort_after;
	struct trigger disconnect_after;
	int bench;
	unsigned long concurrency;
	unsigned long total;
	double max_seconds;
	struct message msg[MC_MAX_FILES];
	size_t nmsg;
};

/* One connection to the milter and what it negotiated. */
struct conn {
	const struct opts *o;
	int fd;
	unsigned long id;
	int quiet;
	struct buf out;		/* queued packets */
	size_t pkt_start;
	unsigned char in[16384];
	size_t in_off;
	size_t in_len;
	struct buf pkt;		/* payload of the last reply, NUL after it */
	uint32_t version;
	uint32_t actions;
	uint32_t proto;
	int have_list[MC_NMACRO];
	struct namelist list[MC_NMACRO];
};

struct ohdr {
	const char *name;
	size_t name_len;
	const unsigned char *raw;	/* original field, or NULL */
	size_t raw_len;
	char *value;		/* new value as the milter sent it */
	int lead;		/* value carries its own leading space */
};

/* The message as modified by the milter, kept only for -o. */
struct edit {
	struct ohdr *h;
	size_t n;
	size_t cap;
	struct buf body;
	int replaced;
};

/* One message transaction. */
struct run {
	const struct opts *o;
	const struct message *m;
	unsigned long msgno;
	char qid[24];
	size_t rcpt_idx;
	FILE *out;		/* action lines, NULL when silent */
	int skip_stage;
	int verdict;
	int verdict_stage;
	int reached_eom;
	int abort_sent;
	struct buf code;
	struct edit *ed;
};

static void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

/* buf_reserve - make room for extra bytes; -1 past the maximum or OOM */
static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t want, ncap;
	unsigned char *p;

	if (extra > b->max || b->len > b->max - extra)
		return -1;
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

static int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* buf_add_str0 - append a string and its terminating NUL */
static int
buf_add_str0(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s) + 1);
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* copy_str - bounded copy that always terminates; -1 if truncated */
static int
copy_str(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size) {
		if (size > 0)
			dst[0] = 0;
		return -1;
	}
	memcpy(dst, src, n);
	dst[n] = 0;
	return 0;
}

#define ESC_SPACE	1	/* field is followed by others */
#define ESC_QUOTE	2	/* field is inside double quotes */

/* put_esc - print bytes escaped so that one action stays one line */
static void
put_esc(FILE *f, const char *s, size_t n, int flags)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch == '\\')
			fputs("\\\\", f);
		else if (ch < 0x20 || ch == 0x7f ||
		    ((flags & ESC_SPACE) && ch == ' ') ||
		    ((flags & ESC_QUOTE) && ch == '"')) {
			putc('\\', f);
			putc('x', f);
			putc(hex[ch >> 4], f);
			putc(hex[ch & 15], f);
		} else
			putc(ch, f);
	}
}

static const char *
cmd_text(int cmd, char *tmp, size_t size)
{
	if (cmd > 0x20 && cmd < 0x7f)
		snprintf(tmp, size, "%c", cmd);
	else
		snprintf(tmp, size, "\\x%02x", (unsigned)cmd & 0xff);
	return tmp;
}

static const char *
verdict_name(int cmd)
{
	switch (cmd) {
	case SMFIR_CONTINUE:	return "continue";
	case SMFIR_ACCEPT:	return "accept";
	case SMFIR_REJECT:	return "reject";
	case SMFIR_TEMPFAIL:	return "tempfail";
	case SMFIR_DISCARD:	return "discard";
	case SMFIR_REPLYCODE:	return "replycode";
	case SMFIR_SHUTDOWN:	return "shutdown";
	case SMFIR_CONN_FAIL:	return "conn_fail";
	}
	return "unknown";
}

/* ---- message files ---- */

/* read_file - whole file into b, converting bare LF to CRLF */
static int
read_file(const char *path, struct buf *b)
{
	FILE *fp;
	unsigned char chunk[8192];
	size_t n, i;
	int prev = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		for (i = 0; i < n; i++) {
			if (chunk[i] == '\n' && prev != '\r' &&
			    buf_add(b, "\r", 1) < 0)
				goto fail;
			if (buf_add(b, chunk + i, 1) < 0)
				goto fail;
			prev = chunk[i];
		}
	}
	if (ferror(fp))
		goto fail;
	fclose(fp);
	if (b->len > 0 && prev != '\n' && buf_add(b, "\r\n", 2) < 0)
		return -1;
	return 0;
fail:
	fclose(fp);
	return -1;
}

/* field_name_len - length of the field name if the line opens a header */
static size_t
field_name_len(const unsigned char *p, size_t n, size_t *colon)
{
	size_t i, end;

	for (i = 0; i < n && p[i] > 32 && p[i] < 127 && p[i] != ':'; i++)
		;
	if (i == 0)
		return 0;
	end = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i >= n || p[i] != ':')
		return 0;
	*colon = i;
	return end;
}

/* add_wire - append name\0value\0 with CRLF inside the value as LF */
static int
add_wire(struct buf *w, const unsigned char *name, size_t nlen,
    const unsigned char *v, size_t vlen)
{
	size_t i;

	if (buf_add(w, name, nlen) < 0 || buf_add(w, "", 1) < 0)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (v[i] == '\r' && i + 1 < vlen && v[i + 1] == '\n')
			continue;
		if (buf_add(w, v + i, 1) < 0)
			return -1;
	}
	return buf_add(w, "", 1);
}

static int
message_add_header(struct message *m, size_t start, size_t nlen,
    size_t colon)
{
	struct header *h;

	h = realloc(m->hdr, (m->nhdr + 1) * sizeof(*h));
	if (h == NULL)
		return -1;
	m->hdr = h;
	h += m->nhdr++;
	h->name_off = start;
	h->name_len = nlen;
	h->raw_off = start;
	h->raw_len = colon + 1;	/* extended by continuation lines */
	return 0;
}

/* message_parse - find header fields and body, as Postfix's MIME scan does */
static int
message_parse(struct message *m)
{
	size_t off = 0, end, nlen, colon;
	const unsigned char *p;

	m->body_off = m->len;
	while (off < m->len) {
		p = memchr(m->data + off, '\n', m->len - off);
		end = p ? (size_t)(p - m->data) + 1 : m->len;
		if (end - off <= 2 && m->data[off] == '\r') {
			m->body_off = end;	/* the empty line */
			return 0;
		}
		if ((m->data[off] == ' ' || m->data[off] == '\t') && m->nhdr > 0) {
			m->hdr[m->nhdr - 1].raw_len = end -
			    m->hdr[m->nhdr - 1].raw_off;
		} else if ((nlen = field_name_len(m->data + off, end - off,
		    &colon)) > 0) {
			if (message_add_header(m, off, nlen, colon) < 0)
				return -1;
			m->hdr[m->nhdr - 1].raw_len = end - off;
		} else {
			m->body_off = off;	/* no empty line: body starts */
			return 0;
		}
		off = end;
	}
	return 0;
}

static int
message_wire(struct message *m)
{
	size_t i, voff, vlen;
	struct header *h;
	const unsigned char *v;

	buf_init(&m->wire, MC_MAX_OUT);
	for (i = 0; i < m->nhdr; i++) {
		h = &m->hdr[i];
		voff = h->name_off + h->name_len;
		while (m->data[voff] != ':')
			voff++;
		voff++;
		v = m->data + voff;
		vlen = h->raw_off + h->raw_len - voff;
		if (vlen >= 2 && v[vlen - 2] == '\r' && v[vlen - 1] == '\n')
			vlen -= 2;
		h->lwire_off = m->wire.len;
		if (add_wire(&m->wire, m->data + h->name_off, h->name_len,
		    v, vlen) < 0)
			return -1;
		h->lwire_len = m->wire.len - h->lwire_off;
		if (vlen > 0 && v[0] == ' ') {
			v++;
			vlen--;
		}
		h->wire_off = m->wire.len;
		if (add_wire(&m->wire, m->data + h->name_off, h->name_len,
		    v, vlen) < 0)
			return -1;
		h->wire_len = m->wire.len - h->wire_off;
	}
	return 0;
}

/* message_msgid - Message-ID value, unfolded and trimmed, for {msg_id} */
static void
message_msgid(struct message *m)
{
	size_t i, j, k, n;
	const unsigned char *v;
	struct header *h;

	for (i = 0; i < m->nhdr; i++) {
		h = &m->hdr[i];
		if (h->name_len != 10 || strncasecmp((const char *)m->data +
		    h->name_off, "Message-ID", 10) != 0)
			continue;
		v = m->wire.data + h->wire_off + h->name_len + 1;
		n = strlen((const char *)v);
		if ((m->msgid = malloc(n + 1)) == NULL)
			return;
		for (j = 0, k = 0; j < n; j++)
			if (v[j] != '\n' && v[j] != '\r' &&
			    !(k == 0 && (v[j] == ' ' || v[j] == '\t')))
				m->msgid[k++] = (char)v[j];
		while (k > 0 && (m->msgid[k - 1] == ' ' ||
		    m->msgid[k - 1] == '\t'))
			k--;
		m->msgid[k] = 0;
		return;
	}
}

static int
message_load(struct message *m, const char *path)
{
	struct buf b;

	memset(m, 0, sizeof(*m));
	m->path = path;
	buf_init(&b, MC_MAX_MSG);
	if (read_file(path, &b) < 0) {
		fprintf(stderr, "milterclient: %s: %s\n", path,
		    errno ? strerror(errno) : "too large");
		buf_free(&b);
		return -1;
	}
	if (b.data == NULL && buf_reserve(&b, 1) < 0) {	/* empty file */
		fprintf(stderr, "milterclient: %s: out of memory\n", path);
		return -1;
	}
	m->data = b.data;
	m->len = b.len;
	if (message_parse(m) < 0 || message_wire(m) < 0) {
		fprintf(stderr, "milterclient: %s: out of memory\n", path);
		return -1;
	}
	message_msgid(m);
	return 0;
}

/* ---- macros ---- */

/* macro_norm - one-letter names bare, longer names in braces */
static int
macro_norm(const char *in, size_t n, char *out, size_t size)
{
	size_t i;

	if (n >= 2 && in[0] == '{' && in[n - 1] == '}') {
		in++;
		n -= 2;
	}
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)in[i] <= ' ' || in[i] == '{' ||
		    in[i] == '}' || in[i] == '=')
			return -1;
	if (n == 1)
		return copy_str(out, size, in, 1);
	if (n + 3 > size)
		return -1;
	out[0] = '{';
	memcpy(out + 1, in, n);
	out[n + 1] = '}';
	out[n + 2] = 0;
	return 0;
}

static int
namelist_has(const struct namelist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->name[i], name) == 0)
			return 1;
	return 0;
}

static int
namelist_add(struct namelist *l, const char *name)
{
	if (namelist_has(l, name))
		return 0;
	if (l->n >= MC_MAX_LIST)
		return -1;
	return copy_str(l->name[l->n++], MC_MAX_MNAME, name, strlen(name));
}

/* namelist_parse - names separated by blanks or commas; bad ones skipped */
static int
namelist_parse(struct namelist *l, const char *s)
{
	size_t n;
	char norm[MC_MAX_MNAME];

	while (*s) {
		n = strcspn(s, " ,\t");
		if (n > 0 && macro_norm(s, n, norm, sizeof(norm)) == 0 &&
		    namelist_add(l, norm) < 0)
			return -1;
		s += n;
		s += strspn(s, " ,\t");
	}
	return 0;
}

/* user_macro - 1 if -M decides NAME at STAGE (*val NULL: do not send) */
static int
user_macro(const struct opts *o, int stage, const char *name,
    const char **val)
{
	const struct usermacro *staged = NULL, *any = NULL, *other = NULL;
	size_t i;

	for (i = 0; i < o->numac; i++) {
		if (strcmp(o->umac[i].name, name) != 0)
			continue;
		if (o->umac[i].stage == stage)
			staged = &o->umac[i];
		else if (o->umac[i].stage < 0)
			any = &o->umac[i];
		else if (o->umac[i].value != NULL)
			other = &o->umac[i];
	}
	if (staged == NULL)
		staged = any ? any : other;
	if (staged == NULL)
		return 0;
	*val = staged->value;
	return 1;
}

static const char *
macro_builtin(const struct run *r, int stage, const char *n)
{
	const struct opts *o = r->o;
	const struct envaddr *rc = &o->rcpt[r->rcpt_idx];
	int pf = o->order == ORDER_POSTFIX;

	if (strcmp(n, "i") == 0) {
		if (pf)
			return stage >= ST_DATA || (stage == ST_ENVRCPT &&
			    r->rcpt_idx > 0) ? r->qid : NULL;
		return stage >= ST_ENVFROM ? r->qid : NULL;
	}
	if (strcmp(n, "j") == 0)
		return o->mta_name;
	if (strcmp(n, "v") == 0)
		return pf ? "Postfix 3.7.11" : "8.17.1";
	if (strcmp(n, "_") == 0)
		return o->underscore;
	if (strcmp(n, "{daemon_name}") == 0)
		return o->daemon_name ? o->daemon_name :
		    pf ? o->mta_name : "MTA";
	if (strcmp(n, "{daemon_addr}") == 0 || strcmp(n, "{if_addr}") == 0)
		return "127.0.0.1";
	if (strcmp(n, "{if_name}") == 0)
		return "localhost";
	if (strcmp(n, "{client_addr}") == 0)
		return o->client_addr[0] ? o->client_addr : NULL;
	if (strcmp(n, "{client_name}") == 0)
		return o->client_name;
	if (strcmp(n, "{client_port}") == 0)
		return o->client_addr[0] ? o->client_port : NULL;
	if (strcmp(n, "{mail_addr}") == 0)
		return o->from.addr;
	if (strcmp(n, "{mail_host}") == 0)
		return o->from.host[0] ? o->from.host : NULL;
	if (strcmp(n, "{mail_mailer}") == 0 || strcmp(n, "{rcpt_mailer}") == 0)
		return pf ? "smtp" : "esmtp";
	if (strcmp(n, "{rcpt_addr}") == 0)
		return rc->addr;
	if (strcmp(n, "{rcpt_host}") == 0)
		return rc->host[0] ? rc->host : NULL;
	if (strcmp(n, "{msg_id}") == 0)
		return r->m->msgid;
	return NULL;
}

/* ---- connection I/O ---- */

static int pkt_begin(struct conn *, int);
static int pkt_end(struct conn *);

static int
conn_error(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return -1;
	fprintf(stderr, "milterclient: conn=%lu: ", c->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void
conn_init(struct conn *c, const struct opts *o, unsigned long id, int quiet)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->fd = -1;
	c->id = id;
	c->quiet = quiet;
	buf_init(&c->out, MC_MAX_OUT);
	buf_init(&c->pkt, MC_MAX_REPLY + 1);
}

static int
conn_open(struct conn *c)
{
	const struct opts *o = c->o;
	struct timeval tv;
	int one = 1;

	c->out.len = 0;
	c->in_off = c->in_len = 0;
	if ((c->fd = socket(o->family, SOCK_STREAM, 0)) < 0)
		return conn_error(c, "socket: %s", strerror(errno));
	tv.tv_sec = o->timeout;
	tv.tv_usec = 0;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (const struct sockaddr *)&o->sa, o->salen) < 0) {
		conn_error(c, "connect: %s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	if (o->family != AF_UNIX)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return 0;
}

static int
conn_flush(struct conn *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->out.len) {
		n = write(c->fd, c->out.data + off, c->out.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			c->out.len = 0;
			return conn_error(c, "write: %s", errno == EAGAIN ?
			    "timeout" : strerror(errno));
		}
		off += (size_t)n;
	}
	c->out.len = 0;
	return 0;
}

/* conn_close - optionally say SMFIC_QUIT, then close */
static void
conn_close(struct conn *c, int quit)
{
	if (c->fd < 0)
		return;
	if (quit && pkt_begin(c, SMFIC_QUIT) == 0 && pkt_end(c) == 0)
		(void)conn_flush(c);
	close(c->fd);
	c->fd = -1;
	c->out.len = 0;
	c->in_off = c->in_len = 0;
}

/*
 * conn_quickack - with --quickack, acknowledge at once what we read next.
 * libmilter writes each reply packet separately and leaves Nagle on, so
 * over TCP a milter's second reply packet (e.g. the accept after an
 * insheader) waits for our delayed ACK, 40 ms on Linux.  A real MTA
 * suffers that too; --quickack takes it out of a benchmark.  Linux only:
 * the one compile-time test in this file, on the socket option itself.
 */
static void
conn_quickack(const struct conn *c)
{
#ifdef TCP_QUICKACK
	int one = 1;

	if (c->o->quickack && c->o->family != AF_UNIX)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
#else
	(void)c;
#endif
}

static int
conn_read(struct conn *c, unsigned char *dst, size_t n)
{
	size_t take;
	ssize_t got;

	while (n > 0) {
		if (c->in_off == c->in_len) {
			conn_quickack(c);
			got = read(c->fd, c->in, sizeof(c->in));
			if (got == 0)
				return conn_error(c, "milter closed the "
				    "connection");
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return conn_error(c, "read: %s", errno ==
				    EAGAIN ? "timeout" : strerror(errno));
			c->in_off = 0;
			c->in_len = (size_t)got;
		}
		take = c->in_len - c->in_off;
		if (take > n)
			take = n;
		memcpy(dst, c->in + c->in_off, take);
		c->in_off += take;
		dst += take;
		n -= take;
	}
	return 0;
}

/* conn_read_packet - flush what is queued, then read one reply */
static int
conn_read_packet(struct conn *c, int *cmd)
{
	unsigned char h[5];
	uint32_t n;
	char t[8];

	if (conn_flush(c) < 0 || conn_read(c, h, sizeof(h)) < 0)
		return -1;
	n = get_u32(h);
	if (n < 1 || n - 1 > MC_MAX_REPLY)
		return conn_error(c, "bad reply length %lu", (unsigned long)n);
	*cmd = h[4];
	c->pkt.len = 0;
	if (buf_reserve(&c->pkt, n) < 0)
		return conn_error(c, "out of memory");
	if (conn_read(c, c->pkt.data, n - 1) < 0)
		return -1;
	c->pkt.len = n - 1;
	c->pkt.data[c->pkt.len] = 0;
	if (c->o->verbose)
		fprintf(stderr, "conn=%lu < %s len=%lu\n", c->id,
		    cmd_text(*cmd, t, sizeof(t)), (unsigned long)n - 1);
	return 0;
}

static int
pkt_begin(struct conn *c, int cmd)
{
	unsigned char h[5] = { 0, 0, 0, 0, (unsigned char)cmd };

	if (c->out.len >= MC_FLUSH_AT && conn_flush(c) < 0)
		return -1;
	c->pkt_start = c->out.len;
	if (buf_add(&c->out, h, sizeof(h)) < 0)
		return conn_error(c, "output buffer full");
	return 0;
}

static int
pkt_add(struct conn *c, const void *p, size_t n)
{
	if (buf_add(&c->out, p, n) < 0)
		return conn_error(c, "output buffer full");
	return 0;
}

static int
pkt_end(struct conn *c)
{
	size_t n = c->out.len - c->pkt_start - 4;
	char t[8];

	if (n > UINT32_MAX)
		return conn_error(c, "packet too large");
	put_u32(c->out.data + c->pkt_start, (uint32_t)n);
	if (c->o->verbose)
		fprintf(stderr, "conn=%lu > %s len=%lu\n", c->id,
		    cmd_text(c->out.data[c->pkt_start + 4], t, sizeof(t)),
		    (unsigned long)n - 1);
	return 0;
}

/* ---- reply payloads ---- */

struct cursor {
	const unsigned char *p;
	size_t len;
	size_t off;
};

static int
cur_u32(struct cursor *cu, uint32_t *v)
{
	if (cu->len - cu->off < 4)
		return -1;
	*v = get_u32(cu->p + cu->off);
	cu->off += 4;
	return 0;
}

static int
cur_str(struct cursor *cu, const char **s, size_t *n)
{
	const unsigned char *z;

	if (cu->off >= cu->len ||
	    (z = memchr(cu->p + cu->off, 0, cu->len - cu->off)) == NULL)
		return -1;
	*s = (const char *)cu->p + cu->off;
	*n = (size_t)(z - (cu->p + cu->off));
	cu->off += *n + 1;
	return 0;
}

/* ---- output lines ---- */

static void
line_begin(const struct run *r, const char *what)
{
	fprintf(r->out, "msg=%lu %s", r->msgno, what);
}

static void
line_field(const struct run *r, const char *key, const char *v, size_t n,
    int last)
{
	fprintf(r->out, " %s=", key);
	put_esc(r->out, v, n, last ? 0 : ESC_SPACE);
}

static void
print_verdict(const struct run *r, int cmd, int stage, const char *rcpt)
{
	if (r->out == NULL)
		return;
	fprintf(r->out, "msg=%lu verdict=%s", r->msgno, verdict_name(cmd));
	if (cmd == SMFIR_REPLYCODE) {
		fputs(" code=\"", r->out);
		put_esc(r->out, (const char *)r->code.data, r->code.len,
		    ESC_QUOTE);
		putc('"', r->out);
	}
	if (stage != ST_EOM)
		fprintf(r->out, " stage=%s", stage_name[stage]);
	if (rcpt != NULL)
		line_field(r, "rcpt", rcpt, strlen(rcpt), 0);
	putc('\n', r->out);
}

static void
print_unknown(const struct conn *c, const struct run *r, int cmd, int stage)
{
	char t[8];

	if (r->out == NULL)
		return;
	fprintf(r->out, "msg=%lu unknown cmd=%s stage=%s len=%lu\n", r->msgno,
	    cmd_text(cmd, t, sizeof(t)), stage_name[stage],
	    (unsigned long)c->pkt.len);
}

/* ---- message edits for -o ---- */

static struct edit *
edit_create(const struct message *m)
{
	struct edit *ed;
	size_t i;

	if ((ed = calloc(1, sizeof(*ed))) == NULL)
		return NULL;
	ed->cap = m->nhdr + 8;
	if ((ed->h = calloc(ed->cap, sizeof(*ed->h))) == NULL) {
		free(ed);
		return NULL;
	}
	for (i = 0; i < m->nhdr; i++) {
		ed->h[i].name = (const char *)m->data + m->hdr[i].name_off;
		ed->h[i].name_len = m->hdr[i].name_len;
		ed->h[i].raw = m->data + m->hdr[i].raw_off;
		ed->h[i].raw_len = m->hdr[i].raw_len;
	}
	ed->n = m->nhdr;
	buf_init(&ed->body, MC_MAX_MSG);
	return ed;
}

static void
edit_free(struct edit *ed)
{
	size_t i;

	if (ed == NULL)
		return;
	for (i = 0; i < ed->n; i++) {
		free(ed->h[i].value);
		if (ed->h[i].raw == NULL)
			free((char *)ed->h[i].name);
	}
	free(ed->h);
	buf_free(&ed->body);
	free(ed);
}

/* edit_set - make field i a new NAME: VALUE field */
static int
edit_set(struct ohdr *h, const char *name, const char *value, int lead)
{
	char *n, *v;

	if ((n = strdup(name)) == NULL || (v = strdup(value)) == NULL) {
		free(n);
		return -1;
	}
	if (h->raw == NULL)
		free((char *)h->name);
	free(h->value);
	h->name = n;
	h->name_len = strlen(n);
	h->value = v;
	h->raw = NULL;
	h->lead = lead;
	return 0;
}

static int
edit_insert(struct edit *ed, size_t at, const char *name, const char *value,
    int lead)
{
	struct ohdr *h;

	if (ed->n == ed->cap) {
		h = realloc(ed->h, (ed->cap * 2) * sizeof(*h));
		if (h == NULL)
			return -1;
		ed->h = h;
		ed->cap *= 2;
	}
	if (at > ed->n)
		at = ed->n;
	memmove(ed->h + at + 1, ed->h + at, (ed->n - at) * sizeof(*ed->h));
	memset(&ed->h[at], 0, sizeof(ed->h[at]));
	ed->h[at].raw = (const unsigned char *)"";	/* nothing to free */
	ed->n++;
	return edit_set(&ed->h[at], name, value, lead);
}

/* edit_change - SMFIR_CHGHEADER semantics: index counts same-named fields */
static int
edit_change(struct edit *ed, uint32_t idx, const char *name,
    const char *value, int lead)
{
	size_t i, nlen = strlen(name);

	if (idx == 0)
		idx = 1;	/* as Postfix and sendmail do */
	for (i = 0; i < ed->n; i++) {
		if (ed->h[i].name_len != nlen ||
		    strncasecmp(ed->h[i].name, name, nlen) != 0 || --idx > 0)
			continue;
		if (*value)
			return edit_set(&ed->h[i], name, value, lead);
		if (ed->h[i].raw == NULL)
			free((char *)ed->h[i].name);
		free(ed->h[i].value);
		memmove(ed->h + i, ed->h + i + 1,
		    (ed->n - i - 1) * sizeof(*ed->h));
		ed->n--;
		return 0;
	}
	return *value ? edit_insert(ed, ed->n, name, value, lead) : 0;
}

/* put_crlf - write text, turning bare LF into CRLF */
static void
put_crlf(FILE *fp, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			putc('\r', fp);
		putc(p[i], fp);
	}
}

static int
write_output(const struct run *r, int several)
{
	const struct edit *ed = r->ed;
	const struct message *m = r->m;
	char path[4096];
	FILE *fp;
	size_t i;
	int err;

	if (strcmp(r->o->outpath, "-") == 0)
		fp = stdout;
	else {
		if (several)
			snprintf(path, sizeof(path), "%s.%lu", r->o->outpath,
			    r->msgno);
		else
			snprintf(path, sizeof(path), "%s", r->o->outpath);
		if ((fp = fopen(path, "wb")) == NULL) {
			fprintf(stderr, "milterclient: %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < ed->n; i++) {
		if (ed->h[i].value == NULL) {
			fwrite(ed->h[i].raw, 1, ed->h[i].raw_len, fp);
			continue;
		}
		fprintf(fp, "%s:%s", ed->h[i].name, ed->h[i].lead ? "" : " ");
		put_crlf(fp, (const unsigned char *)ed->h[i].value,
		    strlen(ed->h[i].value));
		fputs("\r\n", fp);
	}
	fputs("\r\n", fp);
	if (ed->replaced)
		put_crlf(fp, ed->body.data, ed->body.len);
	else
		fwrite(m->data + m->body_off, 1, m->len - m->body_off, fp);
	err = ferror(fp);
	if (fp == stdout)
		err |= fflush(fp);
	else
		err |= fclose(fp);
	return err ? -1 : 0;
}

/* ---- replies ---- */

static int
save_code(struct conn *c, struct run *r)
{
	size_t n = strnlen((const char *)c->pkt.data, c->pkt.len);

	r->code.len = 0;
	if (buf_add(&r->code, c->pkt.data, n) < 0)
		return conn_error(c, "reply code too long");
	return 0;
}

/* await_reply - wait for the decision on one event before end of message */
static int
await_reply(struct conn *c, struct run *r, int stage)
{
	const char *s;
	size_t n;
	struct cursor cu;
	int cmd;

	for (;;) {
		if (conn_read_packet(c, &cmd) < 0)
			return -1;
		switch (cmd) {
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_QUARANTINE:
			cu.p = c->pkt.data;
			cu.len = c->pkt.len;
			cu.off = 0;
			if (cur_str(&cu, &s, &n) < 0)
				return conn_error(c, "malformed quarantine");
			if (r->out) {
				line_begin(r, "quarantine");
				line_field(r, "reason", s, n, 1);
				putc('\n', r->out);
			}
			continue;
		case SMFIR_REPLYCODE:
			if (save_code(c, r) < 0)
				return -1;
			return cmd;
		case SMFIR_CONTINUE: case SMFIR_ACCEPT: case SMFIR_REJECT:
		case SMFIR_TEMPFAIL: case SMFIR_DISCARD: case SMFIR_SKIP:
		case SMFIR_SHUTDOWN: case SMFIR_CONN_FAIL:
			return cmd;
		default:
			print_unknown(c, r, cmd, stage);
			continue;
		}
	}
}

static int
mod_header(struct conn *c, struct run *r, int cmd)
{
	struct cursor cu = { c->pkt.data, c->pkt.len, 0 };
	const char *name, *value;
	size_t nl, vl;
	uint32_t idx = 0;
	int lead = (c->proto & SMFIP_HDR_LEADSPC) != 0, err = 0;

	if ((cmd != SMFIR_ADDHEADER && cur_u32(&cu, &idx) < 0) ||
	    cur_str(&cu, &name, &nl) < 0 || cur_str(&cu, &value, &vl) < 0 ||
	    nl == 0)
		return conn_error(c, "malformed header change '%c'", cmd);
	if (r->out) {
		line_begin(r, cmd == SMFIR_ADDHEADER ? "addheader" :
		    cmd == SMFIR_INSHEADER ? "insheader" : "chgheader");
		if (cmd != SMFIR_ADDHEADER)
			fprintf(r->out, " idx=%lu", (unsigned long)idx);
		line_field(r, "name", name, nl, 0);
		line_field(r, "value", value, vl, 1);
		putc('\n', r->out);
	}
	if (r->ed == NULL)
		return 0;
	if (cmd == SMFIR_ADDHEADER)
		err = edit_insert(r->ed, r->ed->n, name, value, lead);
	else if (cmd == SMFIR_INSHEADER)
		err = edit_insert(r->ed, idx, name, value, lead);
	else
		err = edit_change(r->ed, idx, name, value, lead);
	return err < 0 ? conn_error(c, "out of memory") : 0;
}

/* mod_envelope - sender, recipient and quarantine requests: print only */
static int
mod_envelope(struct conn *c, struct run *r, int cmd)
{
	struct cursor cu = { c->pkt.data, c->pkt.len, 0 };
	const char *a, *b = NULL;
	size_t al, bl = 0;
	const char *what = "quarantine", *key = "reason";

	if (cur_str(&cu, &a, &al) < 0 ||
	    (cu.off < cu.len && cur_str(&cu, &b, &bl) < 0))
		return conn_error(c, "malformed reply '%c'", cmd);
	if (r->out == NULL)
		return 0;
	if (cmd == SMFIR_CHGFROM) {
		what = "chgfrom";
		key = "from";
	} else if (cmd != SMFIR_QUARANTINE) {
		what = cmd == SMFIR_ADDRCPT ? "addrcpt" : cmd == SMFIR_DELRCPT ?
		    "delrcpt" : "addrcpt_par";
		key = "rcpt";
	}
	line_begin(r, what);
	line_field(r, key, a, al, b == NULL);
	if (b != NULL)
		line_field(r, "args", b, bl, 1);
	putc('\n', r->out);
	return 0;
}

/* await_eom - collect modifications until the final decision */
static int
await_eom(struct conn *c, struct run *r)
{
	int cmd;

	for (;;) {
		if (conn_read_packet(c, &cmd) < 0)
			return -1;
		switch (cmd) {
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_ADDHEADER: case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
			if (mod_header(c, r, cmd) < 0)
				return -1;
			continue;
		case SMFIR_REPLBODY:
			if (r->out)
				fprintf(r->out, "msg=%lu replbody len=%lu\n",
				    r->msgno, (unsigned long)c->pkt.len);
			if (r->ed != NULL) {
				r->ed->replaced = 1;
				if (buf_add(&r->ed->body, c->pkt.data,
				    c->pkt.len) < 0)
					return conn_error(c, "body too large");
			}
			continue;
		case SMFIR_CHGFROM: case SMFIR_ADDRCPT: case SMFIR_ADDRCPT_PAR:
		case SMFIR_DELRCPT: case SMFIR_QUARANTINE:
			if (mod_envelope(c, r, cmd) < 0)
				return -1;
			continue;
		case SMFIR_REPLYCODE:
			if (save_code(c, r) < 0)
				return -1;
			return cmd;
		case SMFIR_CONTINUE: case SMFIR_ACCEPT: case SMFIR_REJECT:
		case SMFIR_TEMPFAIL: case SMFIR_DISCARD: case SMFIR_SHUTDOWN:
		case SMFIR_CONN_FAIL:
			return cmd;
		default:
			print_unknown(c, r, cmd, ST_EOM);
			continue;
		}
	}
}

/* ---- events ---- */

/* send_macros - SMFIC_MACRO for list MS ahead of command CMD, if any */
static int
send_macros(struct conn *c, struct run *r, int ms, int cmd)
{
	const struct namelist *l;
	size_t i, start = c->out.len;
	const char *v;
	unsigned char code = (unsigned char)cmd;
	int count = 0;

	if (ms < 0)
		return 0;
	l = c->have_list[ms] ? &c->list[ms] : &c->o->list[ms];
	if (l->n == 0)
		return 0;
	if (pkt_begin(c, SMFIC_MACRO) < 0 || pkt_add(c, &code, 1) < 0)
		return -1;
	start = c->pkt_start;
	for (i = 0; i < l->n; i++) {
		if (!user_macro(c->o, ms, l->name[i], &v))
			v = macro_builtin(r, ms, l->name[i]);
		if (v == NULL)
			continue;
		if (buf_add_str0(&c->out, l->name[i]) < 0 ||
		    buf_add_str0(&c->out, v) < 0)
			return conn_error(c, "output buffer full");
		count++;
	}
	if (count == 0) {
		c->out.len = start;
		return 0;
	}
	return pkt_end(c);
}

/*
 * ev_send - macros for list MS, then the event unless the milter opted
 * out (NOFLAG) or skipped it, then its reply unless NRFLAG.  Returns the
 * reply, 0 for none, -1 on error.
 */
static int
ev_send(struct conn *c, struct run *r, int stage, int ms, int cmd,
    uint32_t noflag, uint32_t nrflag, const void *data, size_t len)
{
	if (r->skip_stage == stage)
		return 0;
	r->skip_stage = -1;
	if (send_macros(c, r, ms, cmd) < 0)
		return -1;
	if (c->proto & noflag)
		return 0;
	if (pkt_begin(c, cmd) < 0 || pkt_add(c, data, len) < 0 ||
	    pkt_end(c) < 0)
		return -1;
	if (c->proto & nrflag)
		return 0;
	return await_reply(c, r, stage);
}

/* decide - what a reply before end of message means */
static int
decide(struct run *r, int stage, int cmd, const char *rcpt)
{
	if (cmd < 0)
		return R_FAIL;
	if (cmd == 0 || cmd == SMFIR_CONTINUE)
		return R_GO;
	if (cmd == SMFIR_SKIP) {
		if (r->out)
			fprintf(r->out, "msg=%lu skip stage=%s\n", r->msgno,
			    stage_name[stage]);
		r->skip_stage = stage;
		return R_GO;
	}
	print_verdict(r, cmd, stage, rcpt);
	r->verdict = cmd;
	r->verdict_stage = stage;
	if (cmd == SMFIR_SHUTDOWN || cmd == SMFIR_CONN_FAIL)
		return R_CONN;
	if (stage == ST_CONNECT || stage == ST_HELO)
		return cmd == SMFIR_DISCARD ? R_GO : R_CONN;
	if (stage == ST_ENVRCPT && (cmd == SMFIR_REJECT ||
	    cmd == SMFIR_TEMPFAIL || cmd == SMFIR_REPLYCODE))
		return R_RCPT;
	return R_MSG;
}

static int
trigger_hit(const struct trigger *t, int stage, unsigned long msgno)
{
	return t->stage == stage && (t->msgno == 0 || t->msgno == msgno);
}

/* interrupt - --disconnect-after and --abort-after */
static int
interrupt(struct conn *c, struct run *r, int stage)
{
	if (trigger_hit(&c->o->disconnect_after, stage, r->msgno)) {
		(void)conn_flush(c);
		if (c->o->disconnect_delay_ms > 0) {
			/* An MTA that waits a while (its timeout) and then goes. */
			struct timespec ts = { c->o->disconnect_delay_ms / 1000,
			    (c->o->disconnect_delay_ms % 1000) * 1000000L };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		close(c->fd);
		c->fd = -1;
		if (r->out)
			fprintf(r->out, "msg=%lu disconnected stage=%s\n",
			    r->msgno, stage_name[stage]);
		return R_GONE;
	}
	if (trigger_hit(&c->o->abort_after, stage, r->msgno)) {
		if (pkt_begin(c, SMFIC_ABORT) < 0 || pkt_end(c) < 0 ||
		    conn_flush(c) < 0)
			return R_FAIL;
		r->abort_sent = 1;
		if (r->out)
			fprintf(r->out, "msg=%lu aborted stage=%s\n",
			    r->msgno, stage_name[stage]);
		return R_MSG;
	}
	return R_GO;
}

static int
negotiate_lists(struct conn *c, struct cursor *cu)
{
	uint32_t code;
	const char *s;
	size_t n;
	int st;

	while (cu->off < cu->len) {
		if (cur_u32(cu, &code) < 0 || cur_str(cu, &s, &n) < 0)
			return conn_error(c, "malformed macro list in "
			    "negotiation reply");
		if (code >= 7)
			continue;	/* as Postfix: ignore unknown stages */
		st = smfim_stage[code];
		c->have_list[st] = 1;
		c->list[st].n = 0;
		if (namelist_parse(&c->list[st], s) < 0)
			return conn_error(c, "too many macros requested");
		if (c->o->show_optneg && !c->quiet)
			printf("conn=%lu symlist stage=%s names=%s\n", c->id,
			    stage_name[st], s);
	}
	return 0;
}

static int
negotiate(struct conn *c)
{
	unsigned char d[12];
	struct cursor cu;
	int cmd;
	char t[8];

	put_u32(d, MC_PROTO_VERSION);
	put_u32(d + 4, MC_ACTIONS_OFFER);
	put_u32(d + 8, MC_PROTO_OFFER);
	if (pkt_begin(c, SMFIC_OPTNEG) < 0 || pkt_add(c, d, 12) < 0 ||
	    pkt_end(c) < 0 || conn_read_packet(c, &cmd) < 0)
		return -1;
	if (cmd != SMFIC_OPTNEG)
		return conn_error(c, "negotiation reply is '%s'",
		    cmd_text(cmd, t, sizeof(t)));
	if (c->pkt.len < 12)
		return conn_error(c, "short negotiation reply");
	c->version = get_u32(c->pkt.data);
	c->actions = get_u32(c->pkt.data + 4);
	c->proto = get_u32(c->pkt.data + 8);
	if (c->version < 2 || c->version > MC_PROTO_VERSION)
		return conn_error(c, "milter protocol version %lu",
		    (unsigned long)c->version);
	if ((c->actions & ~MC_ACTIONS_OFFER) != 0)
		return conn_error(c, "milter wants actions 0x%lx not offered",
		    (unsigned long)c->actions);
	if (c->version <= 2)
		c->proto |= SMFIP_NOUNKNOWN;
	if (c->version <= 3)
		c->proto |= SMFIP_NODATA;
	if (c->o->show_optneg && !c->quiet)
		printf("conn=%lu optneg version=%lu actions=0x%lx "
		    "protocol=0x%lx\n", c->id, (unsigned long)c->version,
		    (unsigned long)c->actions, (unsigned long)c->proto);
	memset(c->have_list, 0, sizeof(c->have_list));
	cu.p = c->pkt.data;
	cu.len = c->pkt.len;
	cu.off = 12;
	return negotiate_lists(c, &cu);
}

/* greet - open, negotiate, connect and helo events */
static int
greet(struct conn *c, struct run *r)
{
	const struct opts *o = c->o;
	int rc;

	if (conn_open(c) < 0)
		return R_FAIL;
	if (negotiate(c) < 0)
		return R_FAIL;
	if ((rc = interrupt(c, r, ST_OPTNEG)) != R_GO)
		return rc;
	rc = ev_send(c, r, ST_CONNECT, ST_CONNECT, SMFIC_CONNECT,
	    SMFIP_NOCONNECT, SMFIP_NR_CONN, o->connect_wire.data,
	    o->connect_wire.len);
	if ((rc = decide(r, ST_CONNECT, rc, NULL)) != R_GO ||
	    (rc = interrupt(c, r, ST_CONNECT)) != R_GO)
		return rc;
	rc = ev_send(c, r, ST_HELO, ST_HELO, SMFIC_HELO, SMFIP_NOHELO,
	    SMFIP_NR_HELO, o->helo_wire.data, o->helo_wire.len);
	if ((rc = decide(r, ST_HELO, rc, NULL)) != R_GO)
		return rc;
	return interrupt(c, r, ST_HELO);
}

static int
msg_envelope(struct conn *c, struct run *r)
{
	const struct opts *o = c->o;
	size_t i, accepted = 0;
	int rc;

	rc = ev_send(c, r, ST_ENVFROM, ST_ENVFROM, SMFIC_MAIL, SMFIP_NOMAIL,
	    SMFIP_NR_MAIL, o->from.wire, o->from.wire_len);
	if ((rc = decide(r, ST_ENVFROM, rc, NULL)) != R_GO ||
	    (rc = interrupt(c, r, ST_ENVFROM)) != R_GO)
		return rc;
	for (i = 0; i < o->nrcpt; i++) {
		r->rcpt_idx = i;
		rc = ev_send(c, r, ST_ENVRCPT, ST_ENVRCPT, SMFIC_RCPT,
		    SMFIP_NORCPT, SMFIP_NR_RCPT, o->rcpt[i].wire,
		    o->rcpt[i].wire_len);
		rc = decide(r, ST_ENVRCPT, rc, o->rcpt[i].addr);
		if (rc == R_RCPT)
			continue;
		if (rc != R_GO)
			return rc;
		accepted++;
	}
	if (accepted == 0)
		return R_MSG;	/* every recipient refused: no DATA */
	if ((rc = interrupt(c, r, ST_ENVRCPT)) != R_GO)
		return rc;
	rc = ev_send(c, r, ST_DATA, ST_DATA, SMFIC_DATA, SMFIP_NODATA,
	    SMFIP_NR_DATA, NULL, 0);
	if ((rc = decide(r, ST_DATA, rc, NULL)) != R_GO)
		return rc;
	return interrupt(c, r, ST_DATA);
}

static int
msg_headers(struct conn *c, struct run *r)
{
	const struct message *m = r->m;
	const struct header *h;
	int lead = (c->proto & SMFIP_HDR_LEADSPC) != 0, rc;
	int ms = c->o->order == ORDER_POSTFIX ? ST_EOH : -1;
	size_t i;

	if (c->proto & SMFIP_NOHDRS)
		return R_GO;
	for (i = 0; i < m->nhdr; i++) {
		h = &m->hdr[i];
		rc = ev_send(c, r, ST_HEADER, ms, SMFIC_HEADER, 0, SMFIP_NR_HDR,
		    m->wire.data + (lead ? h->lwire_off : h->wire_off),
		    lead ? h->lwire_len : h->wire_len);
		if ((rc = decide(r, ST_HEADER, rc, NULL)) != R_GO)
			return rc;
		if (i == 0 && (rc = interrupt(c, r, ST_HEADER)) != R_GO)
			return rc;
	}
	return R_GO;
}

/* next_chunk - the fixed chunk size, or a reproducible random one */
static size_t
next_chunk(const struct opts *o, unsigned long long *rng)
{
	if (!o->random_chunks)
		return o->chunk;
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	return 1 + (size_t)(*rng % o->chunk);
}

static int
msg_body(struct conn *c, struct run *r)
{
	const struct message *m = r->m;
	const unsigned char *p = m->data + m->body_off;
	size_t left = m->len - m->body_off, n;
	unsigned long long rng = c->o->seed * 2654435761ULL + r->msgno;
	int ms = c->o->order == ORDER_POSTFIX ? ST_EOM : -1, rc, first = 1;

	if (rng == 0)
		rng = 1;
	if (c->proto & SMFIP_NOBODY)
		left = 0;
	while (left > 0 && r->skip_stage != ST_BODY) {
		if ((n = next_chunk(c->o, &rng)) > left)
			n = left;
		rc = ev_send(c, r, ST_BODY, ms, SMFIC_BODY, 0, SMFIP_NR_BODY,
		    p, n);
		if ((rc = decide(r, ST_BODY, rc, NULL)) != R_GO)
			return rc;
		p += n;
		left -= n;
		if (first && (rc = interrupt(c, r, ST_BODY)) != R_GO)
			return rc;
		first = 0;
	}
	return first ? interrupt(c, r, ST_BODY) : R_GO;
}

static int
msg_content(struct conn *c, struct run *r)
{
	double t0;
	int rc;

	if ((rc = msg_headers(c, r)) != R_GO)
		return rc;
	if (!(c->proto & SMFIP_NOEOH)) {
		rc = ev_send(c, r, ST_EOH, ST_EOH, SMFIC_EOH, 0, SMFIP_NR_EOH,
		    NULL, 0);
		if ((rc = decide(r, ST_EOH, rc, NULL)) != R_GO)
			return rc;
	}
	if ((rc = interrupt(c, r, ST_EOH)) != R_GO ||
	    (rc = msg_body(c, r)) != R_GO)
		return rc;
	r->skip_stage = -1;
	t0 = now_sec();
	if (send_macros(c, r, ST_EOM, SMFIC_BODYEOB) < 0 ||
	    pkt_begin(c, SMFIC_BODYEOB) < 0 || pkt_end(c) < 0)
		return R_FAIL;
	if ((rc = interrupt(c, r, ST_EOM)) != R_GO)
		return rc;
	r->reached_eom = 1;
	if ((rc = await_eom(c, r)) < 0)
		return R_FAIL;
	print_verdict(r, rc, ST_EOM, NULL);
	if (c->o->timing && r->out)
		fprintf(r->out, "msg=%lu eom_ms=%.0f\n", r->msgno, (now_sec() - t0) * 1000);
	r->verdict = rc;
	r->verdict_stage = ST_EOM;
	return rc == SMFIR_SHUTDOWN || rc == SMFIR_CONN_FAIL ? R_CONN : R_MSG;
}

/* after_message - the SMFIC_ABORT each MTA sends when a message is over */
static int
after_message(struct conn *c, struct run *r)
{
	int v = r->verdict, early = r->verdict_stage != ST_EOM;

	if (r->abort_sent)
		return 0;
	if (c->o->order == ORDER_POSTFIX) {
		/* a refused MAIL FROM leaves Postfix without a transaction */
		if (r->verdict_stage == ST_ENVFROM && (v == SMFIR_REJECT ||
		    v == SMFIR_TEMPFAIL || v == SMFIR_REPLYCODE))
			return 0;
	} else if (!early || v == SMFIR_ACCEPT || v == 0)
		return 0;
	if (pkt_begin(c, SMFIC_ABORT) < 0 || pkt_end(c) < 0)
		return -1;
	return 0;
}

static void
run_init(struct run *r, const struct opts *o, unsigned long msgno,
    FILE *out)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->m = &o->msg[(msgno - 1) / (o->bench ? 1 : o->repeat) % o->nmsg];
	r->msgno = msgno;
	snprintf(r->qid, sizeof(r->qid), "%010llX", 0x4C00000000ULL + msgno);
	r->out = out;
	r->skip_stage = -1;
	r->verdict_stage = ST_EOM;
	buf_init(&r->code, MC_MAX_CODE);
}

static void
run_free(struct run *r)
{
	edit_free(r->ed);
	r->ed = NULL;
	buf_free(&r->code);
}

/* run_message - one transaction; R_MSG, R_CONN, R_GONE or R_FAIL */
static int
run_message(struct conn *c, struct run *r, int several)
{
	int rc;

	if (c->o->outpath != NULL && r->out != NULL &&
	    (r->ed = edit_create(r->m)) == NULL)
		return conn_error(c, "out of memory");
	rc = msg_envelope(c, r);
	if (rc == R_GO)
		rc = msg_content(c, r);
	if (rc == R_FAIL || rc == R_GONE)
		return rc;
	if (r->ed != NULL && (r->reached_eom || r->verdict == SMFIR_ACCEPT) &&
	    write_output(r, several) < 0)
		return R_FAIL;
	if (rc == R_MSG && after_message(c, r) < 0)
		return R_FAIL;
	return rc;
}

/* ---- plain mode ---- */

static int
run_plain(const struct opts *o)
{
	struct conn c;
	struct run r;
	unsigned long total = o->nmsg * o->repeat, per, k = 0, end;
	FILE *out = o->outpath && strcmp(o->outpath, "-") == 0 ? stderr :
	    stdout;
	int rc = R_MSG;

	per = o->per_conn ? o->per_conn : total;
	conn_init(&c, o, 0, 0);
	while (k < total && rc != R_FAIL) {
		c.id++;
		end = total - k < per ? total : k + per;
		run_init(&r, o, k + 1, out);
		rc = greet(&c, &r);
		while (rc == R_GO || rc == R_MSG) {
			if (k > r.msgno - 1) {
				run_free(&r);
				run_init(&r, o, k + 1, out);
			}
			rc = run_message(&c, &r, total > 1);
			fflush(out);
			if (++k == end)
				break;
		}
		run_free(&r);
		if (rc == R_GONE && k == r.msgno - 1)
			k++;	/* disconnected while greeting */
		if (rc == R_CONN)
			k = end;
		conn_close(&c, rc == R_MSG || rc == R_CONN);
	}
	fflush(out);
	buf_free(&c.out);
	buf_free(&c.pkt);
	return rc == R_FAIL ? 1 : 0;
}

/* ---- bench mode ---- */

struct bench {
	const struct opts *o;
	atomic_ulong issued;
	atomic_ulong done;
	atomic_ulong errors;
	atomic_ulong tempfail;
	double *lat;		/* ms per message slot, -1 if failed */
	double t0;
};

static void
bench_account(struct bench *b, const struct run *r, int rc, unsigned long slot,
    double t_start)
{
	int v = r->verdict;

	if (rc == R_FAIL) {
		b->lat[slot] = -1;
		atomic_fetch_add(&b->errors, 1);
		return;
	}
	b->lat[slot] = (now_sec() - t_start) * 1000.0;
	atomic_fetch_add(&b->done, 1);
	if (v == SMFIR_TEMPFAIL || v == SMFIR_SHUTDOWN ||
	    (v == SMFIR_REPLYCODE && r->code.len > 0 && r->code.data[0] == '4'))
		atomic_fetch_add(&b->tempfail, 1);
}

static int
bench_time_up(const struct bench *b)
{
	return b->o->max_seconds > 0 && now_sec() - b->t0 >= b->o->max_seconds;
}

static void *
bench_worker(void *arg)
{
	struct bench *b = arg;
	const struct opts *o = b->o;
	struct conn c;
	struct run r;
	unsigned long slot, on_conn = 0, per = o->per_conn ? o->per_conn : 1;
	int rc, fails = 0;
	double t_start;

	conn_init(&c, o, 0, !o->verbose);
	while (!bench_time_up(b) && fails < 100) {
		if ((slot = atomic_fetch_add(&b->issued, 1)) >= o->total)
			break;
		run_init(&r, o, slot + 1, NULL);
		t_start = now_sec();
		rc = R_GO;
		if (c.fd < 0) {
			c.id++;
			on_conn = 0;
			rc = greet(&c, &r);
		}
		if (rc == R_GO)
			rc = run_message(&c, &r, 0);
		bench_account(b, &r, rc, slot, t_start);
		fails = rc == R_FAIL ? fails + 1 : 0;
		run_free(&r);
		if (rc != R_MSG || ++on_conn >= per)
			conn_close(&c, rc == R_MSG || rc == R_CONN);
	}
	conn_close(&c, 1);
	buf_free(&c.out);
	buf_free(&c.pkt);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
bench_report(struct bench *b, double secs)
{
	unsigned long i, n = 0, total = atomic_load(&b->issued);
	unsigned long done = atomic_load(&b->done);
	double p50 = 0, p99 = 0;

	if (total > b->o->total)
		total = b->o->total;
	for (i = 0; i < total; i++)
		if (b->lat[i] >= 0)
			b->lat[n++] = b->lat[i];
	if (n > 0) {
		qsort(b->lat, n, sizeof(*b->lat), cmp_double);
		p50 = b->lat[(n - 1) / 2];
		p99 = b->lat[(n * 99 + 99) / 100 - 1];	/* ceil(.99n)-1 */
	}
	printf("messages=%lu seconds=%.3f msgs_per_sec=%.1f p50_ms=%.3f "
	    "p99_ms=%.3f errors=%lu tempfail=%lu\n", done, secs,
	    secs > 0 ? done / secs : 0.0, p50, p99,
	    (unsigned long)atomic_load(&b->errors),
	    (unsigned long)atomic_load(&b->tempfail));
}

static int
run_bench(const struct opts *o)
{
	struct bench b;
	pthread_t *tid;
	unsigned long i, started = 0;

	memset(&b, 0, sizeof(b));
	b.o = o;
	atomic_init(&b.issued, 0);
	atomic_init(&b.done, 0);
	atomic_init(&b.errors, 0);
	atomic_init(&b.tempfail, 0);
	b.lat = calloc(o->total, sizeof(*b.lat));
	tid = calloc(o->concurrency, sizeof(*tid));
	if (b.lat == NULL || tid == NULL) {
		fprintf(stderr, "milterclient: out of memory\n");
		return 1;
	}
	b.t0 = now_sec();
	for (i = 0; i < o->concurrency; i++) {
		if (pthread_create(&tid[i], NULL, bench_worker, &b) != 0) {
			fprintf(stderr, "milterclient: pthread_create failed\n");
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	bench_report(&b, now_sec() - b.t0);
	free(b.lat);
	free(tid);
	return started == o->concurrency && atomic_load(&b.errors) == 0 ? 0 : 1;
}

/* ---- options ---- */

static void
usage(FILE *fp)
{
	fputs(
"usage: milterclient [options] -s SOCKET MESSAGE_FILE...\n"
"       milterclient --bench [-C CONC] [-N TOTAL] [-T SECS] [-n PER_CONN]\n"
"                    [options] -s SOCKET MESSAGE_FILE...\n"
"Plays the MTA: sends each message through the milter at SOCKET and prints\n"
"one line per action the milter took.\n"
"  -s SOCKET      unix:/path | inet:PORT@HOST | inet6:PORT@HOST\n"
"                 (also /path, local:/path, inet:HOST:PORT)\n"
"  -M [STAGE:]NAME=VALUE  a macro; STAGE is connect, helo, envfrom, envrcpt,\n"
"                 data, eoh or eom: send NAME at that stage too.  The value\n"
"                 replaces the built-in one wherever NAME is sent.\n"
"                 [STAGE:]NAME without '=' stops sending NAME (there).\n"
"  -c ADDR        client IPv4/IPv6 address or \"unknown\" (default 127.0.0.1)\n"
"  --client-name NAME  (default localhost for loopback, else [ADDR])\n"
"  --client-port PORT  (default 54321)\n"
"  -H NAME        HELO name (default client.example.test)\n"
"  -f SENDER      MAIL FROM address [ESMTP args] (default sender@example.com)\n"
"  -r RCPT        recipient [ESMTP args], may repeat (default rcpt@example.net)\n"
"  -j NAME        the MTA's host name, macro j (default mx.example.test)\n"
"  -b SIZE        body chunk size 1..65535 (default 65535)\n"
"  -B SEED        cut the body at reproducible random sizes 1..SIZE instead\n"
"  -n N           send each message N times (default 1)\n"
"  -k K           messages per connection (default N; 0: all on one)\n"
"  -o FILE        write each message as modified by the milter, CRLF line\n"
"                 ends, to FILE (FILE.MSGNO if several; \"-\": stdout, and\n"
"                 the action lines go to stderr)\n"
"  -t SECONDS     I/O timeout (default 30)\n"
"  --quickack     TCP: ACK replies at once (Linux), so that a milter's Nagle\n"
"                 delay (libmilter, 40 ms per split reply) is not measured\n"
"  --order postfix|sendmail  whose event and macro order to play\n"
"                 (default postfix)\n"
"  --abort-after STAGE[@MSG]  send SMFIC_ABORT after STAGE (envfrom,\n"
"                 envrcpt, data, header, eoh, body) of message MSG (default\n"
"                 every message), then go on with the next message\n"
"  --disconnect-after STAGE[@MSG]  close the socket after STAGE (optneg,\n"
"                 connect, helo, envfrom, envrcpt, data, header, eoh, body,\n"
"                 eom); later messages use a new connection\n"
"  --disconnect-delay MS  wait MS milliseconds before that close (an MTA\n"
"                 that gives up waiting for a reply)\n"
"  --show-optneg  print the negotiation result of each connection\n"
"  --timing       print the time from end of message to the milter's final\n"
"                 reply (msg=N eom_ms=MS)\n"
"  -v             trace packets on stderr\n"
"  --bench        benchmark: no per-message output, one summary line\n"
"  -C N           bench: concurrent connections (default 1)\n"
"  -N N           bench: messages in all (default 1000; with -T 10000000)\n"
"  -T SECONDS     bench: stop starting messages after this long\n"
"                 (in bench mode -n is messages per connection, default 1)\n"
"Output lines (the last field runs to end of line; \\r \\n \\t \\\\ and other\n"
"control bytes are escaped, \\xHH; spaces too in fields that are not last):\n"
"  msg=N insheader idx=I name=NAME value=VALUE\n"
"  msg=N addheader name=NAME value=VALUE\n"
"  msg=N chgheader idx=I name=NAME value=VALUE     (empty VALUE: delete)\n"
"  msg=N replbody len=L\n"
"  msg=N chgfrom from=ADDR [args=ARGS]     msg=N addrcpt rcpt=ADDR\n"
"  msg=N addrcpt_par rcpt=ADDR [args=ARGS] msg=N delrcpt rcpt=ADDR\n"
"  msg=N quarantine reason=TEXT            msg=N skip stage=STAGE\n"
"  msg=N aborted stage=STAGE               msg=N disconnected stage=STAGE\n"
"  msg=N eom_ms=MS                         (--timing)\n"
"  msg=N unknown cmd=X stage=STAGE len=L\n"
"  msg=N verdict=continue|accept|reject|tempfail|discard|shutdown|conn_fail\n"
"  msg=N verdict=replycode code=\"451 4.7.1 text\"\n"
"        verdicts before end of message add stage=STAGE [rcpt=ADDR]\n"
"  conn=C optneg version=V actions=0xA protocol=0xP    (--show-optneg)\n"
"  conn=C symlist stage=STAGE names=LIST              (--show-optneg)\n"
"Bench: messages=N seconds=S msgs_per_sec=X p50_ms=A p99_ms=B errors=E\n"
"  tempfail=T (latency: MAIL FROM, or connect for a connection's first\n"
"  message, to the final reply)\n"
"Exit: 0 conversations completed, 1 protocol error, unexpected close or\n"
"  timeout (bench: errors > 0), 2 usage error.\n", fp);
}

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("milterclient: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(milterclient -h for help)\n", stderr);
	return -1;
}

static int
parse_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == 0 || *s == '-' || *end != 0 || errno != 0 || v < min ||
	    v > max)
		return usage_error("bad %s: %s", what, s);
	*out = v;
	return 0;
}

static int
stage_lookup(const char *s, size_t n, int last)
{
	int i;

	for (i = 0; i <= last; i++)
		if (strlen(stage_name[i]) == n &&
		    strncmp(stage_name[i], s, n) == 0)
			return i;
	return -1;
}

/* parse_macro - [STAGE:]NAME[=VALUE] */
static int
parse_macro(struct opts *o, const char *arg)
{
	struct usermacro *u;
	const char *colon = strchr(arg, ':'), *eq = strchr(arg, '=');

	if (o->numac >= MC_MAX_USERMAC)
		return usage_error("too many -M options");
	u = &o->umac[o->numac];
	u->stage = -1;
	if (colon != NULL && (eq == NULL || colon < eq)) {
		u->stage = stage_lookup(arg, (size_t)(colon - arg), ST_EOM);
		if (u->stage < 0)
			return usage_error("bad macro stage in %s", arg);
		arg = colon + 1;
	}
	if (macro_norm(arg, eq ? (size_t)(eq - arg) : strlen(arg), u->name,
	    sizeof(u->name)) < 0)
		return usage_error("bad macro name in %s", arg);
	u->value = eq ? eq + 1 : NULL;
	o->numac++;
	return 0;
}

static int
parse_trigger(struct trigger *t, const char *arg, int is_abort)
{
	const char *at = strchr(arg, '@');
	size_t n = at ? (size_t)(at - arg) : strlen(arg);
	int st = stage_lookup(arg, n, ST_OPTNEG);

	if (st < 0 || (is_abort && (st < ST_ENVFROM || st == ST_EOM ||
	    st == ST_OPTNEG)))
		return usage_error("bad stage: %s", arg);
	t->stage = st;
	t->msgno = 0;
	if (at != NULL)
		return parse_ulong(at + 1, 1, ULONG_MAX, &t->msgno,
		    "message number");
	return 0;
}

/* parse_envaddr - "addr [args...]" into the MAIL/RCPT wire argument */
static int
parse_envaddr(struct envaddr *e, const char *spec)
{
	struct buf w;
	const char *p = spec + strspn(spec, " "), *at;
	size_t n = strcspn(p, " ");
	int err;

	buf_init(&w, sizeof(e->wire));
	w.data = e->wire;
	w.cap = sizeof(e->wire);
	if (n >= 2 && p[0] == '<' && p[n - 1] == '>')
		err = copy_str(e->addr, sizeof(e->addr), p + 1, n - 2);
	else
		err = copy_str(e->addr, sizeof(e->addr), p, n);
	if (err < 0 || buf_add(&w, "<", 1) < 0 ||
	    buf_add(&w, e->addr, strlen(e->addr)) < 0 ||
	    buf_add(&w, ">", 2) < 0)
		return usage_error("address too long: %s", spec);
	at = strrchr(e->addr, '@');
	(void)copy_str(e->host, sizeof(e->host), at ? at + 1 : "",
	    at ? strlen(at + 1) : 0);
	for (p += n; *(p += strspn(p, " ")) != 0; p += n) {
		n = strcspn(p, " ");
		if (buf_add(&w, p, n) < 0 || buf_add(&w, "", 1) < 0)
			return usage_error("arguments too long: %s", spec);
	}
	e->wire_len = w.len;
	return 0;
}

/* parse_socket - resolve the milter's address once, at start */
static int
parse_socket(struct opts *o, const char *spec)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&o->sa;
	struct addrinfo hints, *ai;
	char host[256], port[32];
	const char *rest, *sep;
	int family = AF_INET, err;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0 ||
	    spec[0] == '/') {
		rest = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
		un->sun_family = AF_UNIX;
		if (copy_str(un->sun_path, sizeof(un->sun_path), rest,
		    strlen(rest)) < 0)
			return usage_error("socket path too long: %s", spec);
		o->family = AF_UNIX;
		o->salen = sizeof(*un);
		return 0;
	}
	if (strncmp(spec, "inet6:", 6) == 0)
		family = AF_INET6;
	else if (strncmp(spec, "inet:", 5) != 0)
		return usage_error("bad socket: %s", spec);
	rest = strchr(spec, ':') + 1;
	if ((sep = strchr(rest, '@')) != NULL)
		err = copy_str(port, sizeof(port), rest, (size_t)(sep - rest)) |
		    copy_str(host, sizeof(host), sep + 1, strlen(sep + 1));
	else if ((sep = strrchr(rest, ':')) != NULL)
		err = copy_str(host, sizeof(host), rest, (size_t)(sep - rest)) |
		    copy_str(port, sizeof(port), sep + 1, strlen(sep + 1));
	else
		err = -1;
	if (err != 0 || port[0] == 0)
		return usage_error("bad socket: %s", spec);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((err = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0)
		return usage_error("%s: %s", spec, gai_strerror(err));
	memcpy(&o->sa, ai->ai_addr, ai->ai_addrlen);
	o->salen = ai->ai_addrlen;
	o->family = ai->ai_family;
	freeaddrinfo(ai);
	return 0;
}

/* build_connect - the SMFIC_CONNECT and SMFIC_HELO arguments */
static int
build_connect(struct opts *o, const char *addr, const char *name,
    unsigned long port, const char *helo)
{
	unsigned char fam = 'U', p[2];
	struct in6_addr a6;

	if (strcmp(addr, "unknown") == 0)
		o->client_addr[0] = 0;
	else if (inet_pton(AF_INET, addr, &a6) == 1)
		fam = '4';
	else if (inet_pton(AF_INET6, addr, &a6) == 1)
		fam = '6';
	else
		return usage_error("bad client address: %s", addr);
	if (fam != 'U')
		(void)copy_str(o->client_addr, sizeof(o->client_addr), addr,
		    strlen(addr));
	if (name == NULL)
		name = fam == 'U' ? "unknown" : strcmp(addr, "127.0.0.1") == 0 ||
		    strcmp(addr, "::1") == 0 ? "localhost" : NULL;
	if (name != NULL)
		snprintf(o->client_name, sizeof(o->client_name), "%s", name);
	else
		snprintf(o->client_name, sizeof(o->client_name), "[%s]", addr);
	snprintf(o->client_port, sizeof(o->client_port), "%lu", port);
	snprintf(o->underscore, sizeof(o->underscore), "%s [%s]",
	    o->client_name, fam == 'U' ? "unknown" : addr);
	p[0] = (unsigned char)(port >> 8);
	p[1] = (unsigned char)port;
	buf_init(&o->connect_wire, 1024);
	buf_init(&o->helo_wire, 1024);
	if (buf_add_str0(&o->connect_wire, o->client_name) < 0 ||
	    buf_add(&o->connect_wire, &fam, 1) < 0 ||
	    (fam != 'U' && (buf_add(&o->connect_wire, p, 2) < 0 ||
	    buf_add_str0(&o->connect_wire, addr) < 0)) ||
	    buf_add_str0(&o->helo_wire, helo) < 0)
		return usage_error("client name or HELO name too long");
	return 0;
}

/* build_lists - the macro names sent at each stage unless the milter asks */
static int
build_lists(struct opts *o)
{
	size_t i;
	int st, listed;

	for (st = 0; st < MC_NMACRO; st++)
		if (namelist_parse(&o->list[st], default_macros[o->order][st]))
			return usage_error("too many macros");
	for (i = 0; i < o->numac; i++) {
		if (o->umac[i].value == NULL)
			continue;
		if (o->umac[i].stage >= 0) {
			if (namelist_add(&o->list[o->umac[i].stage],
			    o->umac[i].name) < 0)
				return usage_error("too many macros");
			continue;
		}
		for (st = 0, listed = 0; st < MC_NMACRO; st++)
			listed |= namelist_has(&o->list[st], o->umac[i].name);
		if (!listed && namelist_add(&o->list[ST_CONNECT],
		    o->umac[i].name) < 0)
			return usage_error("too many macros");
	}
	return 0;
}

enum {
	OPT_BENCH = 256, OPT_ORDER, OPT_ABORT, OPT_DISC, OPT_CNAME, OPT_CPORT,
	OPT_OPTNEG, OPT_QUICKACK, OPT_TIMING, OPT_DISC_DELAY
};

static const struct option long_opts[] = {
	{ "bench", no_argument, NULL, OPT_BENCH },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "abort-after", required_argument, NULL, OPT_ABORT },
	{ "disconnect-after", required_argument, NULL, OPT_DISC },
	{ "client-name", required_argument, NULL, OPT_CNAME },
	{ "client-port", required_argument, NULL, OPT_CPORT },
	{ "show-optneg", no_argument, NULL, OPT_OPTNEG },
	{ "quickack", no_argument, NULL, OPT_QUICKACK },
	{ "timing", no_argument, NULL, OPT_TIMING },
	{ "disconnect-delay", required_argument, NULL, OPT_DISC_DELAY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Option values that need work after all options are seen. */
struct rawopts {
	const char *socket;
	const char *client;
	const char *client_name;
	unsigned long client_port;
	const char *helo;
	const char *from;
	const char *rcpt[MC_MAX_RCPT];
	size_t nrcpt;
	int have_k;
	int have_n;
	int have_total;
};

static int
parse_one(struct opts *o, struct rawopts *ro, int ch, const char *arg)
{
	unsigned long v;

	switch (ch) {
	case 's': ro->socket = arg; return 0;
	case 'M': return parse_macro(o, arg);
	case 'c': ro->client = arg; return 0;
	case 'H': ro->helo = arg; return 0;
	case 'f': ro->from = arg; return 0;
	case 'j': o->mta_name = arg; return 0;
	case 'r':
		if (ro->nrcpt >= MC_MAX_RCPT)
			return usage_error("too many recipients");
		ro->rcpt[ro->nrcpt++] = arg;
		return 0;
	case 'b': return parse_ulong(arg, 1, MC_CHUNK_MAX, &o->chunk, "size");
	case 'B':
		o->random_chunks = 1;
		if (parse_ulong(arg, 0, ULONG_MAX, &v, "seed") < 0)
			return -1;
		o->seed = v | 1;
		return 0;
	case 'n': ro->have_n = 1;
		return parse_ulong(arg, 1, 1000000, &o->repeat, "count");
	case 'k': ro->have_k = 1;
		return parse_ulong(arg, 0, ULONG_MAX, &o->per_conn, "count");
	case 'o': o->outpath = arg; return 0;
	case 't':
		if (parse_ulong(arg, 1, 86400, &v, "timeout") < 0)
			return -1;
		o->timeout = (int)v;
		return 0;
	case 'v': o->verbose = 1; return 0;
	case 'C': return parse_ulong(arg, 1, 4096, &o->concurrency, "count");
	case 'N': ro->have_total = 1;
		return parse_ulong(arg, 1, MC_MAX_BENCH, &o->total, "count");
	case 'T':
		if (parse_ulong(arg, 1, 86400 * 7, &v, "seconds") < 0)
			return -1;
		o->max_seconds = (double)v;
		return 0;
	case OPT_BENCH: o->bench = 1; return 0;
	case OPT_ORDER:
		if (strcmp(arg, "postfix") == 0)
			o->order = ORDER_POSTFIX;
		else if (strcmp(arg, "sendmail") == 0)
			o->order = ORDER_SENDMAIL;
		else
			return usage_error("bad order: %s", arg);
		return 0;
	case OPT_ABORT: return parse_trigger(&o->abort_after, arg, 1);
	case OPT_DISC: return parse_trigger(&o->disconnect_after, arg, 0);
	case OPT_CNAME: ro->client_name = arg; return 0;
	case OPT_CPORT:
		return parse_ulong(arg, 0, 65535, &ro->client_port, "port");
	case OPT_OPTNEG: o->show_optneg = 1; return 0;
	case OPT_TIMING: o->timing = 1; return 0;
	case OPT_DISC_DELAY: {
		unsigned long ms;

		if (parse_ulong(arg, 0, 600000, &ms, "delay") < 0)
			return -1;
		o->disconnect_delay_ms = (long)ms;
		return 0;
	}
	case OPT_QUICKACK:
#ifdef TCP_QUICKACK
		o->quickack = 1;
		return 0;
#else
		return usage_error("--quickack needs TCP_QUICKACK (Linux)");
#endif
	}
	return usage_error("bad option");
}

static void
opts_defaults(struct opts *o, struct rawopts *ro)
{
	memset(ro, 0, sizeof(*ro));
	o->order = ORDER_POSTFIX;
	o->mta_name = "mx.example.test";
	o->chunk = MC_CHUNK_MAX;
	o->repeat = 1;
	o->timeout = 30;
	o->abort_after.stage = -1;
	o->disconnect_after.stage = -1;
	o->concurrency = 1;
	o->total = 1000;
	ro->client = "127.0.0.1";
	ro->client_port = 54321;
	ro->helo = "client.example.test";
	ro->from = "sender@example.com";
}

/* opts_finish - checks and derived values once all options are known */
static int
opts_finish(struct opts *o, struct rawopts *ro, int argc, char **argv)
{
	size_t i;

	if (ro->socket == NULL)
		return usage_error("-s SOCKET is required");
	if (argc < 1)
		return usage_error("no message file");
	if (argc > MC_MAX_FILES)
		return usage_error("too many message files");
	if (o->bench) {
		o->per_conn = ro->have_k ? o->per_conn : ro->have_n ?
		    o->repeat : 1;
		o->outpath = NULL;
		if (o->max_seconds > 0 && !ro->have_total)
			o->total = MC_BENCH_TIMED;
	} else if (!ro->have_k)
		o->per_conn = o->repeat;
	if (ro->nrcpt == 0)
		ro->rcpt[ro->nrcpt++] = "rcpt@example.net";
	if (parse_socket(o, ro->socket) < 0 ||
	    build_connect(o, ro->client, ro->client_name, ro->client_port,
	    ro->helo) < 0 || parse_envaddr(&o->from, ro->from) < 0 ||
	    build_lists(o) < 0)
		return -1;
	for (i = 0; i < ro->nrcpt; i++)
		if (parse_envaddr(&o->rcpt[i], ro->rcpt[i]) < 0)
			return -1;
	o->nrcpt = ro->nrcpt;
	for (i = 0; i < (size_t)argc; i++)
		if (message_load(&o->msg[o->nmsg++], argv[i]) < 0)
			return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct opts o;	/* large; read-only once parsed */
	struct rawopts ro;
	struct sigaction sa;
	int ch;

	opts_defaults(&o, &ro);
	while ((ch = getopt_long(argc, argv, "s:M:c:H:f:r:j:b:B:n:k:o:t:vC:N:T:h",
	    long_opts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 0;
		}
		if (ch == '?' || parse_one(&o, &ro, ch, optarg) < 0)
			return 2;
	}
	if (opts_finish(&o, &ro, argc - optind, argv + optind) < 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	return o.bench ? run_bench(&o) : run_plain(&o);
}
