/*
 * metrics.c - counters, gauges, histograms and their exposition (see metrics.h).
 *
 * Everything a milter thread touches is a relaxed atomic on static storage:
 * the numbers are statistics, so no ordering between them is promised; a
 * histogram's _count is derived from its buckets at render time, so the
 * two always agree in one scrape.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

#define MAX_LABELS 8

struct family {
	const char *name;
	const char *help;
	const char *label;		/* NULL: one unlabelled series */
	const char *const *values;
	unsigned nvalues;
};

static const char *const v_decision[] = { "sign", "verify", "pass-unsigned" };
static const char *const v_action[] = { "accept", "reject", "tempfail" };
static const char *const v_alg[] = { "rsa-sha256", "ed25519-sha256" };
static const char *const v_result[] = { "none", "pass", "fail", "neutral", "policy",
	"temperror", "permerror" };
static const char *const v_align[] = { "aligned-pass", "unaligned-pass", "fail", "none",
	"temperror" };
static const char *const v_dns[] = { "ok", "nxdomain", "nodata", "servfail", "bogus",
	"timeout", "error" };
static const char *const v_dnssec[] = { "secure", "insecure", "bogus" };
static const char *const v_cache[] = { "hit", "miss" };
static const char *const v_reload[] = { "success", "failure" };

#define VALUES(v) (v), (unsigned)(sizeof(v) / sizeof((v)[0]))
static const struct family counters[MC__COUNT] = {
	[MC_MESSAGES] = { "dkimgate_messages_total",
	    "Messages handled to their end, by what was decided for them.",
	    "decision", VALUES(v_decision) },
	[MC_ACTIONS] = { "dkimgate_message_actions_total",
	    "Final replies to the MTA at the end of a message.", "action", VALUES(v_action) },
	[MC_ABORTED] = { "dkimgate_messages_aborted_total",
	    "Messages the MTA abandoned before their end.", NULL, NULL, 1 },
	[MC_SIGNATURES] = { "dkimgate_signatures_total",
	    "DKIM signatures made, by algorithm.", "algorithm", VALUES(v_alg) },
	[MC_SIGN_ERRORS] = { "dkimgate_sign_errors_total",
	    "Messages that should have been signed but could not be.", NULL, NULL, 1 },
	[MC_VERIFY_RESULTS] = { "dkimgate_verify_results_total",
	    "Verification results, one per signature (none: a message without one).",
	    "result", VALUES(v_result) },
	[MC_ALIGNMENT] = { "dkimgate_alignment_total",
	    "Per-message alignment verdicts (dkim-alignment=).", "verdict", VALUES(v_align) },
	[MC_AR_REMOVED] = { "dkimgate_authres_removed_total",
	    "Authentication-Results fields removed because they claimed our authserv-id.",
	    NULL, NULL, 1 },
	[MC_DNS_QUERIES] = { "dkimgate_dns_queries_total", "DNS lookups started.",
	    NULL, NULL, 1 },
	[MC_DNS_ANSWERS] = { "dkimgate_dns_answers_total",
	    "DNS lookups ended, by outcome.", "status", VALUES(v_dns) },
	[MC_DNS_DNSSEC] = { "dkimgate_dns_dnssec_total",
	    "DNS answers by DNSSEC status.", "status", VALUES(v_dnssec) },
	[MC_DNS_JOINED] = { "dkimgate_dns_joined_total",
	    "DNS lookups that joined the same question already in flight.",
	    NULL, NULL, 1 },
	[MC_KEY_CACHE] = { "dkimgate_key_cache_total",
	    "Key records looked up in the parsed-key cache, by outcome.",
	    "result", VALUES(v_cache) },
	[MC_DMARC_CACHE] = { "dkimgate_dmarc_cache_total",
	    "DMARC tree walks answered from the walk cache (hit) or sent to DNS (miss).",
	    "result", VALUES(v_cache) },
	[MC_RELOADS] = { "dkimgate_config_reloads_total",
	    "Configuration reloads, applied or refused.", "result", VALUES(v_reload) },
};

static const struct {
	const char *name, *help;
} gauges[MG__COUNT] = {
	[MG_MSG_INFLIGHT] = { "dkimgate_messages_in_flight",
	    "Messages between MAIL FROM and their end." },
	[MG_DNS_INFLIGHT] = { "dkimgate_dns_in_flight", "DNS lookups not yet answered." },
	[MG_CONFIG_GENERATION] = { "dkimgate_config_generation",
	    "Configurations applied: 1 at start, one more per reload applied." },
	[MG_RELOAD_OK] = { "dkimgate_config_last_reload_successful",
	    "1 when the last reload was applied (or none was tried), 0 when refused." },
	[MG_RELOAD_OK_TIME] = { "dkimgate_config_last_reload_success_timestamp_seconds",
	    "Unix time the running configuration was applied." },
	[MG_START_TIME] = { "dkimgate_process_start_time_seconds",
	    "Unix time the process started." },
};

static const struct {
	const char *name, *help, *label, *value;
} hists[MH__COUNT] = {
	[MH_EOM_SIGN] = { "dkimgate_eom_duration_seconds",
	    "Time spent at the end of a message.", "mode", "sign" },
	[MH_EOM_VERIFY] = { "dkimgate_eom_duration_seconds",
	    "Time spent at the end of a message.", "mode", "verify" },
	[MH_DNS] = { "dkimgate_dns_lookup_duration_seconds",
	    "Time from the start of a DNS lookup to its answer or timeout.", NULL, NULL },
};

static const uint64_t bounds_us[METRICS_NBUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};

static uint64_t counter_v[MC__COUNT][MAX_LABELS];
static int64_t gauge_v[MG__COUNT];
static struct {
	uint64_t bucket[METRICS_NBUCKETS + 1];	/* last: over every bound */
	uint64_t sum_us;
} hist_v[MH__COUNT];

static const char *version = "unknown";

struct keyent {
	char *id;
	enum metrics_keystate st;
	enum metrics_rotation rot;
};

struct metrics_keys {
	size_t topn, n;
	struct keyent *e;
	size_t *fine;		/* indexes of entries without a problem */
	size_t nfine;
	uint64_t nstate[MKS__COUNT];
	uint64_t nrot[MRO__COUNT];
};

static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_keys *keys_now;

static const char *const v_keystate[MKS__COUNT] = { "ok", "missing", "mismatch", "unknown",
	"unchecked" };
static const char *const v_rotation[MRO__COUNT] = { "none", "waiting", "switched" };

void
metrics_add(enum metrics_counter c, unsigned label, uint64_t n)
{
	if ((unsigned)c >= MC__COUNT || label >= counters[c].nvalues)
		return;
	__atomic_add_fetch(&counter_v[c][label], n, __ATOMIC_RELAXED);
}

void
metrics_gauge_add(enum metrics_gauge g, int64_t n)
{
	if ((unsigned)g < MG__COUNT)
		__atomic_add_fetch(&gauge_v[g], n, __ATOMIC_RELAXED);
}

void
metrics_gauge_set(enum metrics_gauge g, int64_t v)
{
	if ((unsigned)g < MG__COUNT)
		__atomic_store_n(&gauge_v[g], v, __ATOMIC_RELAXED);
}

void
metrics_observe(enum metrics_hist h, uint64_t usec)
{
	unsigned i = 0;

	if ((unsigned)h >= MH__COUNT)
		return;
	while (i < METRICS_NBUCKETS && usec > bounds_us[i])
		i++;
	__atomic_add_fetch(&hist_v[h].bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hist_v[h].sum_us, usec, __ATOMIC_RELAXED);
}

uint64_t
metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
metrics_counter_value(enum metrics_counter c, unsigned label)
{
	if ((unsigned)c >= MC__COUNT || label >= counters[c].nvalues)
		return 0;
	return __atomic_load_n(&counter_v[c][label], __ATOMIC_RELAXED);
}

int64_t
metrics_gauge_value(enum metrics_gauge g)
{
	return (unsigned)g < MG__COUNT ? __atomic_load_n(&gauge_v[g], __ATOMIC_RELAXED) : 0;
}

uint64_t
metrics_hist_count(enum metrics_hist h)
{
	uint64_t n = 0;
	unsigned i;

	if ((unsigned)h >= MH__COUNT)
		return 0;
	for (i = 0; i <= METRICS_NBUCKETS; i++)
		n += __atomic_load_n(&hist_v[h].bucket[i], __ATOMIC_RELAXED);
	return n;
}

const char *
metrics_counter_name(enum metrics_counter c)
{
	return (unsigned)c < MC__COUNT ? counters[c].name : NULL;
}

const char *
metrics_counter_label(enum metrics_counter c)
{
	return (unsigned)c < MC__COUNT ? counters[c].label : NULL;
}

unsigned
metrics_nlabels(enum metrics_counter c)
{
	return (unsigned)c < MC__COUNT ? counters[c].nvalues : 0;
}

const char *
metrics_label(enum metrics_counter c, unsigned label)
{
	if ((unsigned)c >= MC__COUNT || label >= counters[c].nvalues)
		return NULL;
	return counters[c].values ? counters[c].values[label] : "";
}

void
metrics_set_version(const char *v)
{
	version = v;
}

/* --- key states -------------------------------------------------------------- */

struct metrics_keys *
metrics_keys_create(size_t topn)
{
	struct metrics_keys *mk = calloc(1, sizeof(*mk));

	if (mk == NULL)
		return NULL;
	mk->topn = topn;
	if (topn > 0) {
		mk->e = calloc(topn, sizeof(*mk->e));
		mk->fine = calloc(topn, sizeof(*mk->fine));
		if (mk->e == NULL || mk->fine == NULL) {
			metrics_keys_free(mk);
			return NULL;
		}
	}
	return mk;
}

void
metrics_keys_free(struct metrics_keys *mk)
{
	size_t i;

	if (mk == NULL)
		return;
	for (i = 0; i < mk->n; i++)
		free(mk->e[i].id);
	free(mk->e);
	free(mk->fine);
	free(mk);
}

static int
is_problem(enum metrics_keystate st)
{
	return st == MKS_MISSING || st == MKS_MISMATCH || st == MKS_UNKNOWN;
}

int
metrics_keys_add(struct metrics_keys *mk, const char *id, enum metrics_keystate st,
    enum metrics_rotation rot)
{
	struct keyent *slot;
	size_t idx;
	char *copy;

	if ((unsigned)st >= MKS__COUNT || (unsigned)rot >= MRO__COUNT)
		return -1;
	mk->nstate[st]++;
	mk->nrot[rot]++;
	if (mk->n < mk->topn)
		idx = mk->n;
	else if (is_problem(st) && mk->nfine > 0)
		idx = mk->fine[--mk->nfine];	/* a problem is worth more than a fine key */
	else
		return 0;
	if ((copy = strdup(id)) == NULL)
		return -1;
	slot = &mk->e[idx];
	if (idx == mk->n)
		mk->n++;
	else
		free(slot->id);
	slot->id = copy;
	slot->st = st;
	slot->rot = rot;
	if (!is_problem(st))
		mk->fine[mk->nfine++] = idx;
	return 0;
}

void
metrics_keys_publish(struct metrics_keys *mk)
{
	struct metrics_keys *old;

	pthread_mutex_lock(&keys_lock);
	old = keys_now;
	keys_now = mk;
	pthread_mutex_unlock(&keys_lock);
	metrics_keys_free(old);
}

void
metrics_keys_rotation(const char *id, enum metrics_rotation from, enum metrics_rotation to)
{
	size_t i;

	if ((unsigned)from >= MRO__COUNT || (unsigned)to >= MRO__COUNT)
		return;
	pthread_mutex_lock(&keys_lock);
	if (keys_now != NULL) {
		if (keys_now->nrot[from] > 0)
			keys_now->nrot[from]--;
		keys_now->nrot[to]++;
		for (i = 0; i < keys_now->n; i++)
			if (strcmp(keys_now->e[i].id, id) == 0)
				keys_now->e[i].rot = to;
	}
	pthread_mutex_unlock(&keys_lock);
}

/* --- exposition -------------------------------------------------------------- */

/* A label value with \, " and newline escaped as the format wants. */
static int
put_label_value(struct buf *out, const char *v)
{
	int rc = 0;

	for (; *v && rc == 0; v++) {
		if (*v == '\\')
			rc = buf_puts(out, "\\\\");
		else if (*v == '"')
			rc = buf_puts(out, "\\\"");
		else if (*v == '\n')
			rc = buf_puts(out, "\\n");
		else
			rc = buf_putc(out, *v);
	}
	return rc;
}

static int
header(struct buf *out, const char *name, const char *help, const char *type)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
write_counters(struct buf *out)
{
	unsigned c, l;
	int rc = 0;

	for (c = 0; c < MC__COUNT && rc == 0; c++) {
		const struct family *f = &counters[c];

		rc = header(out, f->name, f->help, "counter");
		for (l = 0; l < f->nvalues && rc == 0; l++) {
			uint64_t v = __atomic_load_n(&counter_v[c][l], __ATOMIC_RELAXED);

			if (f->label == NULL)
				rc = buf_printf(out, "%s %llu\n", f->name, (unsigned long long)v);
			else
				rc = buf_printf(out, "%s{%s=\"%s\"} %llu\n", f->name, f->label,
				    f->values[l], (unsigned long long)v);
		}
	}
	return rc;
}

static int
write_gauges(struct buf *out)
{
	unsigned g;
	int rc = 0;

	for (g = 0; g < MG__COUNT && rc == 0; g++) {
		rc = header(out, gauges[g].name, gauges[g].help, "gauge");
		if (rc == 0)
			rc = buf_printf(out, "%s %lld\n", gauges[g].name,
			    (long long)__atomic_load_n(&gauge_v[g], __ATOMIC_RELAXED));
	}
	if (rc == 0)
		rc = header(out, "dkimgate_build_info",
		    "Always 1; the version of the running daemon is in the label.", "gauge");
	if (rc == 0)
		rc = buf_puts(out, "dkimgate_build_info{version=\"");
	if (rc == 0)
		rc = put_label_value(out, version);
	if (rc == 0)
		rc = buf_puts(out, "\"} 1\n");
	return rc;
}

/* "{mode=\"sign\"," or "{" for the label part of one series. */
static int
hist_series(struct buf *out, unsigned h, const char *suffix, int with_le)
{
	int rc = buf_printf(out, "%s%s", hists[h].name, suffix);

	if (rc == 0 && (hists[h].label != NULL || with_le))
		rc = buf_putc(out, '{');
	if (rc == 0 && hists[h].label != NULL)
		rc = buf_printf(out, "%s=\"%s\"%s", hists[h].label, hists[h].value,
		    with_le ? "," : "");
	return rc;
}

static int
write_hists(struct buf *out)
{
	unsigned h, i;
	int rc = 0;

	for (h = 0; h < MH__COUNT && rc == 0; h++) {
		uint64_t cum = 0, sum;

		/* Families sharing a name (one per label value) get one header. */
		if (h == 0 || strcmp(hists[h - 1].name, hists[h].name) != 0)
			rc = header(out, hists[h].name, hists[h].help, "histogram");
		for (i = 0; i <= METRICS_NBUCKETS && rc == 0; i++) {
			cum += __atomic_load_n(&hist_v[h].bucket[i], __ATOMIC_RELAXED);
			rc = hist_series(out, h, "_bucket", 1);
			if (rc == 0 && i < METRICS_NBUCKETS)
				rc = buf_printf(out, "le=\"%g\"} %llu\n",
				    (double)bounds_us[i] / 1e6, (unsigned long long)cum);
			else if (rc == 0)
				rc = buf_printf(out, "le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		sum = __atomic_load_n(&hist_v[h].sum_us, __ATOMIC_RELAXED);
		if (rc == 0)
			rc = hist_series(out, h, "_sum", 0);
		if (rc == 0)
			rc = buf_printf(out, "%s %llu.%06llu\n", hists[h].label ? "}" : "",
			    (unsigned long long)(sum / 1000000u),
			    (unsigned long long)(sum % 1000000u));
		if (rc == 0)
			rc = hist_series(out, h, "_count", 0);
		if (rc == 0)
			rc = buf_printf(out, "%s %llu\n", hists[h].label ? "}" : "",
			    (unsigned long long)cum);
	}
	return rc;
}

static int
write_keys(struct buf *out)
{
	const struct metrics_keys *mk = keys_now;
	unsigned s;
	size_t i;
	int rc;

	rc = header(out, "dkimgate_keys", "Signing keys by the state of their DNS record "
	    "at the last check.", "gauge");
	for (s = 0; s < MKS__COUNT && rc == 0; s++)
		rc = buf_printf(out, "dkimgate_keys{state=\"%s\"} %llu\n", v_keystate[s],
		    (unsigned long long)(mk ? mk->nstate[s] : 0));
	if (rc == 0)
		rc = header(out, "dkimgate_key_rotations", "Signing keys with a successor, by "
		    "rotation state.", "gauge");
	for (s = MRO_WAITING; s < MRO__COUNT && rc == 0; s++)
		rc = buf_printf(out, "dkimgate_key_rotations{state=\"%s\"} %llu\n", v_rotation[s],
		    (unsigned long long)(mk ? mk->nrot[s] : 0));
	if (rc == 0)
		rc = header(out, "dkimgate_key_state", "1 for the state of each listed key's DNS "
		    "record (at most metrics_keys keys, those with a problem first).", "gauge");
	for (i = 0; mk != NULL && i < mk->n && rc == 0; i++)
		for (s = 0; s < MKS_UNCHECKED && rc == 0; s++) {
			rc = buf_puts(out, "dkimgate_key_state{key=\"");
			if (rc == 0)
				rc = put_label_value(out, mk->e[i].id);
			if (rc == 0)
				rc = buf_printf(out, "\",state=\"%s\"} %d\n", v_keystate[s],
				    mk->e[i].st == s);
		}
	if (rc == 0)
		rc = header(out, "dkimgate_key_rotation_state", "1 for the rotation state of "
		    "each listed key that has a successor.", "gauge");
	for (i = 0; mk != NULL && i < mk->n && rc == 0; i++)
		for (s = MRO_WAITING; mk->e[i].rot != MRO_NONE && s < MRO__COUNT && rc == 0; s++) {
			rc = buf_puts(out, "dkimgate_key_rotation_state{key=\"");
			if (rc == 0)
				rc = put_label_value(out, mk->e[i].id);
			if (rc == 0)
				rc = buf_printf(out, "\",state=\"%s\"} %d\n", v_rotation[s],
				    mk->e[i].rot == s);
		}
	return rc;
}

int
metrics_write(struct buf *out)
{
	int rc = write_counters(out);

	if (rc == 0)
		rc = write_gauges(out);
	if (rc == 0)
		rc = write_hists(out);
	if (rc == 0) {
		pthread_mutex_lock(&keys_lock);
		rc = write_keys(out);
		pthread_mutex_unlock(&keys_lock);
	}
	return rc;
}

void
metrics_reset(void)
{
	memset(counter_v, 0, sizeof(counter_v));
	memset(gauge_v, 0, sizeof(gauge_v));
	memset(hist_v, 0, sizeof(hist_v));
	metrics_keys_publish(NULL);
}
