/*
 * cmd_status.c - dkimctl status: a one-screen summary of a running
 * dkimgate, read from its metrics endpoint.
 *
 * The address comes from the configuration's `metrics` setting (or -a);
 * with metrics off it says so and how to turn them on. The endpoint is
 * read with one plain HTTP/1.0 GET, bounded in time and size, and parsed
 * as the Prometheus text format the daemon writes (milter/core/metrics.c);
 * series names and label values come from the same table.
 *
 * Exit status: 0 summary printed, 1 metrics are off in the configuration,
 * 2 the endpoint cannot be reached or gives no usable answer, 3 bad
 * arguments or configuration.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "conf.h"
#include "metrics.h"
#include "metrics_addr.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define STATUS_MAXREPLY (8 * 1024 * 1024)
/* Label text kept per sample; ours are short (a key id at most). */
#define STATUS_MAXLABELS 512

struct sample {
	char name[128];
	char labels[STATUS_MAXLABELS];	/* as written between { and } */
	double v;
};

struct scrape {
	struct sample *s;
	size_t n, alloc;
};

static void
status_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimctl status [-c CONFIG] [-a ADDRESS:PORT] [--timeout SECONDS]\n"
	    "  -c CONFIG    dkimgate.conf whose `metrics` address to read\n"
	    "               (default " SYSCONFDIR "/dkimgate/dkimgate.conf)\n"
	    "  -a ADDRESS   read this metrics address instead (127.0.0.1:9591, [::1]:9591)\n"
	    "  --timeout S  give up after S seconds (default 5)\n"
	    "exit status: 0 shown, 1 metrics off, 2 endpoint unreachable, 3 bad arguments\n");
}

/* Wait until fd is ready for events, or the deadline (monotonic ms) passes. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct timespec ts;
	long long now;
	struct pollfd p = { fd, events, 0 };
	int rc;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= deadline)
			return -1;
		rc = poll(&p, 1, (int)(deadline - now));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* GET /metrics from a; the body into out. 0, or -1 with why. */
static int
fetch(const struct metrics_addr *a, int timeout_ms, struct buf *out, char *why, size_t whylen)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: dkimgate\r\n"
	    "Accept: text/plain\r\n\r\n";
	struct timespec ts;
	long long deadline;
	struct buf reply;
	char chunk[16384], *body;
	ssize_t n;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	if ((fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->sa, a->salen) < 0 && errno != EINPROGRESS)
		err = errno;
	else if (wait_fd(fd, POLLOUT, deadline) < 0)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err == 0 && write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		err = errno ? errno : EIO;
	if (err != 0) {
		snprintf(why, whylen, "%s", strerror(err));
		close(fd);
		return -1;
	}
	buf_init(&reply, STATUS_MAXREPLY);
	for (;;) {
		if (wait_fd(fd, POLLIN, deadline) < 0) {
			snprintf(why, whylen, "no complete answer within %d ms", timeout_ms);
			goto fail;
		}
		if ((n = read(fd, chunk, sizeof(chunk))) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, whylen, "read: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (buf_append(&reply, chunk, (size_t)n) < 0) {
			snprintf(why, whylen, "answer larger than %d bytes", STATUS_MAXREPLY);
			goto fail;
		}
	}
	close(fd);
	if (strncmp(buf_str(&reply), "HTTP/1.", 7) != 0 ||
	    strncmp(buf_str(&reply) + 8, " 200", 4) != 0) {
		const char *eol = strpbrk(buf_str(&reply), "\r\n");

		snprintf(why, whylen, "answer is not 200 OK: '%.*s'",
		    eol ? (int)(eol - buf_str(&reply)) : 60, buf_str(&reply));
		buf_release(&reply);
		return -1;
	}
	if ((body = strstr(buf_str(&reply), "\r\n\r\n")) == NULL) {
		snprintf(why, whylen, "answer has no body");
		buf_release(&reply);
		return -1;
	}
	body += 4;
	if (buf_append(out, body, reply.len - (size_t)(body - reply.data)) < 0) {
		snprintf(why, whylen, "answer too large");
		buf_release(&reply);
		return -1;
	}
	buf_release(&reply);
	return 0;
fail:
	close(fd);
	buf_release(&reply);
	return -1;
}

/* One sample line: NAME[{LABELS}] VALUE. -1 when it is not one. */
static int
parse_line(const char *p, size_t len, struct sample *s)
{
	const char *end = p + len, *q = p, *lb;
	char num[64];
	char *e;
	size_t n;

	while (q < end && *q != '{' && *q != ' ')
		q++;
	if (q == p || (size_t)(q - p) >= sizeof(s->name))
		return -1;
	memcpy(s->name, p, (size_t)(q - p));
	s->name[q - p] = '\0';
	s->labels[0] = '\0';
	if (q < end && *q == '{') {
		lb = ++q;
		/* The closing brace is the last one before the value. */
		while (q < end && !(*q == '}' && (q + 1 == end || q[1] == ' ')))
			q += *q == '\\' && q + 1 < end ? 2 : 1;
		if (q >= end || (size_t)(q - lb) >= sizeof(s->labels))
			return -1;
		memcpy(s->labels, lb, (size_t)(q - lb));
		s->labels[q - lb] = '\0';
		q++;
	}
	while (q < end && *q == ' ')
		q++;
	n = (size_t)(end - q);
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, q, n);
	num[n] = '\0';
	errno = 0;
	s->v = strtod(num, &e);
	return *e == '\0' && errno == 0 ? 0 : -1;
}

static int
parse_text(const char *text, struct scrape *sc)
{
	const char *p = text, *nl;

	for (; *p; p = nl + 1) {
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && *p != '#') {
			if (sc->n == sc->alloc) {
				size_t na = sc->alloc ? 2 * sc->alloc : 256;
				struct sample *ns = reallocarray(sc->s, na, sizeof(*ns));

				if (ns == NULL)
					return -1;
				sc->s = ns;
				sc->alloc = na;
			}
			if (parse_line(p, len, &sc->s[sc->n]) == 0)
				sc->n++;
		}
		if (nl == NULL)
			break;
	}
	return 0;
}

/* The value of NAME{LABELS} (labels as written, "" for none); NAN if absent. */
static double
get(const struct scrape *sc, const char *name, const char *labels)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, name) == 0 && strcmp(sc->s[i].labels, labels) == 0)
			return sc->s[i].v;
	return NAN;
}

/* Counter family c with label value l. */
static double
counter(const struct scrape *sc, enum metrics_counter c, unsigned l)
{
	char lab[128];

	if (metrics_counter_label(c) == NULL)
		return get(sc, metrics_counter_name(c), "");
	snprintf(lab, sizeof(lab), "%s=\"%s\"", metrics_counter_label(c), metrics_label(c, l));
	return get(sc, metrics_counter_name(c), lab);
}

static void
put_num(double v)
{
	if (isnan(v))
		fputs("?", stdout);
	else
		printf("%.0f", v);
}

/* "title   label N, label N, ..." for every label of family c. */
static void
print_family(const struct scrape *sc, const char *title, enum metrics_counter c)
{
	unsigned l;

	printf("%-14s", title);
	for (l = 0; l < metrics_nlabels(c); l++) {
		printf("%s%s ", l ? ", " : " ", metrics_label(c, l));
		put_num(counter(sc, c, l));
	}
	putchar('\n');
}

static double
family_sum(const struct scrape *sc, enum metrics_counter c)
{
	double t = 0;
	unsigned l;

	for (l = 0; l < metrics_nlabels(c); l++)
		t += counter(sc, c, l);
	return t;
}

/*
 * "mean X ms, 90% <= Y ms" of a histogram series (sel: "mode=\"sign\"," or
 * ""), from its buckets; "none yet" without observations.
 */
static void
print_latency(const struct scrape *sc, const char *name, const char *sel, const char *title)
{
	char n_sum[160], n_count[160], n_bucket[160], lab[64];
	double count, sum, best = INFINITY;
	size_t i, sl = strlen(sel);

	snprintf(n_sum, sizeof(n_sum), "%s_sum", name);
	snprintf(n_count, sizeof(n_count), "%s_count", name);
	snprintf(n_bucket, sizeof(n_bucket), "%s_bucket", name);
	str_copy(lab, sel, sizeof(lab));
	if (sl > 0)
		lab[sl - 1] = '\0';	/* the selector without its trailing comma */
	count = get(sc, n_count, lab);
	sum = get(sc, n_sum, lab);
	printf(" %s ", title);
	if (isnan(count) || count == 0) {
		fputs("none yet", stdout);
		return;
	}
	/* The smallest bound holding at least 90% of the observations. */
	for (i = 0; i < sc->n; i++) {
		const struct sample *s = &sc->s[i];
		double le;

		if (strcmp(s->name, n_bucket) != 0 || strncmp(s->labels, sel, sl) != 0 ||
		    strncmp(s->labels + sl, "le=\"", 4) != 0)
			continue;
		le = strncmp(s->labels + sl + 4, "+Inf", 4) == 0 ? INFINITY :
		    strtod(s->labels + sl + 4, NULL);
		if (s->v >= 0.9 * count && le < best)
			best = le;
	}
	printf("mean %.1f ms, 90%% ", 1000 * sum / count);
	if (isinf(best))
		fputs("over 10 s", stdout);
	else
		printf("<= %g ms", best * 1000);
}

/* Value of label key in a label text; "" when absent. Unescapes. */
static void
label_value(const char *labels, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), o = 0;
	const char *p = labels;

	out[0] = '\0';
	while (*p) {
		int match = strncmp(p, key, kl) == 0 && p[kl] == '=' && p[kl + 1] == '"';

		while (*p && *p != '"')
			p++;
		if (*p == '\0')
			return;
		for (p++; *p && *p != '"'; p++) {
			char ch = *p;

			if (ch == '\\' && p[1])
				ch = *++p == 'n' ? '\n' : *p;
			if (match && o + 1 < outlen)
				out[o++] = ch;
		}
		if (match) {
			out[o] = '\0';
			return;
		}
		if (*p == '"')
			p++;
		if (*p == ',')
			p++;
	}
}

static void
print_keys(const struct scrape *sc)
{
	static const char *const states[] = { "ok", "missing", "mismatch", "unknown",
		"unchecked" };
	char lab[64], id[STATUS_MAXLABELS], st[32];
	double total = 0, v;
	size_t i, k;

	for (k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		snprintf(lab, sizeof(lab), "state=\"%s\"", states[k]);
		v = get(sc, "dkimgate_keys", lab);
		total += isnan(v) ? 0 : v;
	}
	printf("%-14s %.0f:", "keys", total);
	for (k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		snprintf(lab, sizeof(lab), "state=\"%s\"", states[k]);
		printf("%s %s ", k ? "," : "", states[k]);
		put_num(get(sc, "dkimgate_keys", lab));
	}
	printf("; rotation: waiting ");
	put_num(get(sc, "dkimgate_key_rotations", "state=\"waiting\""));
	printf(", switched ");
	put_num(get(sc, "dkimgate_key_rotations", "state=\"switched\""));
	putchar('\n');
	for (i = 0; i < sc->n; i++) {
		if (strcmp(sc->s[i].name, "dkimgate_key_state") != 0 || sc->s[i].v != 1)
			continue;
		label_value(sc->s[i].labels, "state", st, sizeof(st));
		if (strcmp(st, "ok") == 0)
			continue;
		label_value(sc->s[i].labels, "key", id, sizeof(id));
		printf("  key %-20s %s\n", id, st);
	}
	for (i = 0; i < sc->n; i++) {
		if (strcmp(sc->s[i].name, "dkimgate_key_rotation_state") != 0 ||
		    sc->s[i].v != 1)
			continue;
		label_value(sc->s[i].labels, "key", id, sizeof(id));
		label_value(sc->s[i].labels, "state", st, sizeof(st));
		printf("  key %-20s rotation %s\n", id, st);
	}
}

static void
print_time(const char *what, double t)
{
	char when[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (isnan(t) || t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		printf("%s ?", what);
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%s %s", what, when);
}

static void
print_summary(const struct scrape *sc, const char *where)
{
	double start = get(sc, "dkimgate_process_start_time_seconds", "");
	long long up = isnan(start) ? -1 : (long long)time(NULL) - (long long)start;
	const char *version = "?";
	size_t i;
	char v[64];

	for (i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, "dkimgate_build_info") == 0) {
			label_value(sc->s[i].labels, "version", v, sizeof(v));
			version = v;
		}
	printf("dkimgate %s, metrics at %s\n", version, where);
	printf("%-14s", "up");
	if (up >= 0)
		printf(" %lldd %02lld:%02lld:%02lld,", up / 86400, up / 3600 % 24, up / 60 % 60,
		    up % 60);
	print_time(" since", start);
	putchar('\n');
	printf("%-14s generation ", "configuration");
	put_num(get(sc, "dkimgate_config_generation", ""));
	print_time(", in force since", get(sc,
	    "dkimgate_config_last_reload_success_timestamp_seconds", ""));
	printf("; reloads applied ");
	put_num(counter(sc, MC_RELOADS, MR_SUCCESS));
	printf(", refused ");
	put_num(counter(sc, MC_RELOADS, MR_FAILURE));
	if (get(sc, "dkimgate_config_last_reload_successful", "") == 0)
		printf(" (THE LAST RELOAD WAS REFUSED: see the log)");
	putchar('\n');
	printf("%-14s ", "messages");
	put_num(family_sum(sc, MC_MESSAGES));
	printf(" done, ");
	put_num(get(sc, "dkimgate_messages_in_flight", ""));
	printf(" in flight, ");
	put_num(counter(sc, MC_ABORTED, 0));
	printf(" aborted\n");
	print_family(sc, "  decision", MC_MESSAGES);
	print_family(sc, "  reply", MC_ACTIONS);
	print_family(sc, "signatures", MC_SIGNATURES);
	printf("%-14s ", "sign errors");
	put_num(counter(sc, MC_SIGN_ERRORS, 0));
	putchar('\n');
	print_family(sc, "verified", MC_VERIFY_RESULTS);
	print_family(sc, "alignment", MC_ALIGNMENT);
	printf("%-14s ", "forged A-R");
	put_num(counter(sc, MC_AR_REMOVED, 0));
	printf(" removed\n");
	printf("%-14s ", "DNS lookups");
	put_num(counter(sc, MC_DNS_QUERIES, 0));
	printf(", ");
	put_num(get(sc, "dkimgate_dns_in_flight", ""));
	printf(" in flight\n");
	print_family(sc, "  answers", MC_DNS_ANSWERS);
	print_family(sc, "  DNSSEC", MC_DNS_DNSSEC);
	print_family(sc, "  key cache", MC_KEY_CACHE);
	print_family(sc, "  walk cache", MC_DMARC_CACHE);
	printf("%-14s", "latency");
	print_latency(sc, "dkimgate_eom_duration_seconds", "mode=\"sign\",", "sign:");
	putchar('\n');
	printf("%-14s", "");
	print_latency(sc, "dkimgate_eom_duration_seconds", "mode=\"verify\",", "verify:");
	putchar('\n');
	printf("%-14s", "");
	print_latency(sc, "dkimgate_dns_lookup_duration_seconds", "", "DNS lookup:");
	putchar('\n');
	print_keys(sc);
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = SYSCONFDIR "/dkimgate/dkimgate.conf", *addr = NULL;
	struct metrics_addr a;
	struct scrape sc = { NULL, 0, 0 };
	struct buf text;
	char why[512], where[128];
	int ch, timeout_ms = 5000, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:a:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'a': addr = optarg; break;
		case 't':
			if ((timeout_ms = parse_timeout_ms(optarg)) < 0)
				die_status(EXIT_KEY_USAGE, "status: --timeout takes seconds (0 to 300)");
			break;
		case 'h': status_usage(stdout); return 0;
		default: status_usage(stderr); return EXIT_KEY_USAGE;
		}
	}
	if (optind != argc) {
		status_usage(stderr);
		return EXIT_KEY_USAGE;
	}
	if (addr == NULL) {
		struct buf errors;
		struct conf *c;

		buf_init(&errors, 65536);
		if ((c = conf_load(config, CONF_KEYS_NONE, &errors)) == NULL) {
			fputs(buf_str(&errors), stderr);
			buf_release(&errors);
			die_status(EXIT_KEY_USAGE, "status: %s: configuration refused", config);
		}
		buf_release(&errors);
		if (c->metrics[0] == '\0') {
			printf("metrics are off in %s: nothing to show.\n"
			    "Turn them on with  metrics = \"127.0.0.1:9591\";  and restart dkimgate.\n",
			    config);
			conf_unref(c);
			return 1;
		}
		str_copy(where, c->metrics, sizeof(where));
		conf_unref(c);
	} else
		str_copy(where, addr, sizeof(where));
	if (metrics_addr_parse(where, &a, why, sizeof(why)) < 0)
		die_status(EXIT_KEY_USAGE, "status: metrics address %s", why);
	buf_init(&text, STATUS_MAXREPLY);
	if (fetch(&a, timeout_ms, &text, why, sizeof(why)) < 0) {
		fprintf(stderr, "dkimctl: status: cannot read metrics at %s: %s "
		    "(is dkimgate running with this configuration?)\n", where, why);
		buf_release(&text);
		return 2;
	}
	rc = parse_text(buf_str(&text), &sc);
	buf_release(&text);
	if (rc < 0 || isnan(get(&sc, "dkimgate_config_generation", ""))) {
		fprintf(stderr, "dkimctl: status: %s does not answer like dkimgate\n", where);
		free(sc.s);
		return 2;
	}
	print_summary(&sc, where);
	free(sc.s);
	return 0;
}
