/*
 * conf.h - the configuration snapshot: every setting of dkimgate.conf
 * (libconfig syntax), validated, with the signing keys loaded.
 *
 * A snapshot is immutable once loaded and reference-counted: each message
 * holds a reference to the snapshot it started with, and a reload swaps in a
 * new one without disturbing messages in flight. conf_load never logs; it
 * returns every problem as "file:line: reason" lines.
 */
#ifndef DKIMGATE_CONF_H
#define DKIMGATE_CONF_H

#include <stddef.h>

#include "buf.h"
#include "canon.h"
#include "crypto.h"
#include "keyset.h"
#include "pattern.h"

struct source;

enum conf_action {
	ACTION_ACCEPT = 0,
	ACTION_TEMPFAIL,
	ACTION_REJECT
};

/* How Organizational Domains and adkim are found for alignment. */
enum conf_alignment {
	ALIGN_RFC9989 = 0,	/* DNS Tree Walk */
	ALIGN_RFC7489		/* public suffix list */
};

enum conf_keycheck {
	KEYCHECK_MODE_OFF = 0,	/* do not look keys up at start/reload */
	KEYCHECK_MODE_WARN,	/* log every problem */
	KEYCHECK_MODE_REQUIRE	/* a missing or mismatching record stops start/reload */
};

struct conf_user {
	char *name;		/* {auth_authen} value */
	char **from;		/* allowed From patterns, same syntax */
	size_t nfrom;
};

struct conf {
	int refs;
	char *path;
	/* daemon */
	char *socket, *user, *group, *pid_file, *socket_owner, *socket_group;
	int socket_mode;
	char *log;		/* "syslog" or "stderr" */
	char *authserv_id;
	int allow_readable_keys;
	int milter_timeout;
	char *key_check;		/* "off", "warn", "require" */
	enum conf_keycheck key_check_mode;
	int key_check_interval;		/* seconds between successor checks */
	int key_check_rate;		/* keys checked per second in the background */
	char *state_dir;		/* rotation state; "" for none */
	long long max_delivery_delay;	/* seconds an old key must stay published */
	/* metrics endpoint: "" off, else ADDRESS:PORT (loopback unless allowed) */
	char *metrics;
	int metrics_allow_remote;
	int metrics_keys;		/* per-key gauges kept at most */
	/* signing */
	int sign_authenticated;
	struct pattern_net *nets;
	size_t nnets;
	char **daemon_names;
	size_t ndaemon_names;
	enum canon_alg hcanon, bcanon;
	char **headers, **oversign;
	size_t nheaders, noversign;
	long long lifetime;
	enum conf_action on_sign_error;
	/*
	 * The keys and signing table written in dkimgate.conf itself (aliases
	 * into sets[0], which owns them).
	 */
	struct conf_key *keys;
	size_t nkeys;
	struct conf_sigentry *table;
	size_t ntable;
	/*
	 * Where signing-table lookups look, in order: sets[0] is dkimgate.conf's
	 * own lists, then one keyset per source. The most specific pattern
	 * wins; between equally specific ones, the earlier set.
	 */
	struct keyset **sets;
	size_t nsets;
	int key_cache_size;		/* decoded private keys kept (privcache) */
	/* The sources list (sources.h): sets[1..] in the same order. */
	struct source *sources;
	size_t nsources;
	int watch_interval;		/* seconds between scans of sources */
	/*
	 * "file:line: reason" lines about entries of sources read by this load
	 * (not of those reused from the running configuration); NULL: none.
	 */
	char *source_problems;
	struct conf_user *users;
	size_t nusers;
	/* verifying */
	int max_signatures;
	int partial_body_policy;	/* l= short of the body -> policy */
	long long max_age;		/* t= older than this -> policy; 0 off */
	int dmarc_lookup;
	char *alignment_name;		/* "rfc9989" or "rfc7489" */
	enum conf_alignment alignment;	/* ALIGN_RFC9989 (0) unless set */
	enum conf_action on_fail, on_permerror, on_temperror, on_none, on_policy;
	char *reject_reply;
	char *tempfail_reply;
	/* DNS and the public suffix list */
	char *resolver, *trust_anchor;
	int dns_timeout;
	int dns_max_outstanding;	/* lookups in flight at once, daemon-wide */
	char *psl_file;
};

/* How much of each key file conf_load reads. */
enum conf_keys {
	CONF_KEYS_NONE = 0,	/* not at all (tools that only need the tables) */
	CONF_KEYS_DECODE,	/* decode every key (dkimgate -n, dkimctl) */
	CONF_KEYS_CHECK		/* the daemon: the file exists, is readable and
				 * private; decoding waits for first use */
};

/*
 * Load and validate path; NULL on any error, with each problem appended to
 * errors as "file:line: reason\n".
 */
struct conf *conf_load(const char *path, enum conf_keys keys, struct buf *errors);
/*
 * The same, reusing what the running configuration prev (may be NULL) read
 * from sources that did not change since.
 */
struct conf *conf_load_from(const char *path, enum conf_keys keys, const struct conf *prev,
    struct buf *errors);
/* A snapshot with every default and no keys (for tests and dkimctl). */
struct conf *conf_defaults(void);
struct conf *conf_ref(struct conf *c);
/* Drop a reference; the last one frees the snapshot. Accepts NULL. Thread-safe. */
void conf_unref(struct conf *c);

/* Index in c->keys of the key with this id, or -1. Constant time. */
long conf_key_index(const struct conf *c, const char *id);
/* Keys and signing-table entries over every set. */
size_t conf_nkeys_all(const struct conf *c);
size_t conf_ntable_all(const struct conf *c);
const char *conf_action_name(enum conf_action a);
/*
 * The settings only a restart applies (those the table marks not
 * reloadable) whose values differ between old and nw: their names, static,
 * into names[0..max). Returns how many differ, which may pass max.
 */
size_t conf_restart_changes(const struct conf *old, const struct conf *nw,
    const char **names, size_t max);

#endif
