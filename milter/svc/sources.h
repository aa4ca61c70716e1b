/*
 * sources.h - key and signing tables kept outside dkimgate.conf, declared
 * in its "sources" list, and noticing when they change.
 *
 *     sources = (
 *       { type = "directory"; path = "/etc/dkimgate/keys.d"; subdomains = false;
 *         watch = "inotify"; },
 *       { type = "opendkim"; key_table = "/etc/opendkim/KeyTable";
 *         signing_table = "refile:/etc/opendkim/SigningTable"; watch = "off"; },
 *       { type = "lmdb"; path = "/var/lib/dkimgate/keys.lmdb"; watch = "scan"; }
 *     );
 *
 * Each source becomes one keyset after dkimgate.conf's own lists (conf.h:
 * sets). When a configuration is loaded with the running one at hand, a
 * source whose files are unchanged (same inode, size and modification
 * time; for a directory, of the directory itself; for an LMDB map, the
 * same file at the same generation) hands over its keyset instead of being
 * read again, so a reload costs what changed. An LMDB map is read at each
 * lookup anyway (srclmdb.h); its reload only renews the keyset.
 *
 * A source that cannot be read at all (a directory or table that does not
 * exist) is an error of the configuration; a problem with one entry is
 * reported ("file:line: reason") and the entry left out, and the daemon
 * serves everything else.
 *
 * Watching: directories and tables with watch = "inotify" are watched
 * through one inotify descriptor the main loop polls, those with "scan"
 * are looked at every watch_interval seconds; either way a change is only
 * acted on when sources_changed says a source differs from what was read.
 */
#ifndef DKIMGATE_SOURCES_H
#define DKIMGATE_SOURCES_H

#include <stddef.h>

#include <libconfig.h>

#include "buf.h"
#include "conf.h"

enum source_type { SOURCE_DIRECTORY = 0, SOURCE_OPENDKIM, SOURCE_LMDB };
enum source_watch { SOURCE_WATCH_OFF = 0, SOURCE_WATCH_INOTIFY, SOURCE_WATCH_SCAN };

struct source_stamp {
	long long dev[2], ino[2], size[2], mtime_ns[2];
};

struct source {
	enum source_type type;
	char *path;		/* directory, or KeyTable */
	char *path2;		/* SigningTable (without "refile:"), or NULL */
	int refile;		/* the SigningTable holds refile: patterns */
	int subdomains;		/* directory: a domain's keys also sign *.domain */
	enum source_watch watch;
	int line;		/* of its entry in dkimgate.conf */
	struct source_stamp stamp;	/* of what was read */
	unsigned long long gen;	/* LMDB: the map's generation when opened */
	struct keyset *set;	/* one reference; conf->sets holds another */
};

/*
 * Read the "sources" list s (NULL: none) of configuration file into c:
 * c->sources, and one keyset per source appended to c->sets. prev (may
 * be NULL) is the running configuration, whose unchanged sources are
 * reused. Configuration errors go to errors ("file:line: reason\n", the
 * return value counts them); problems with entries go to problems. With
 * keys == CONF_KEYS_DECODE every key of every source is decoded too, and
 * each key that does not decode is a problem.
 */
int sources_load(const char *file, config_setting_t *s, struct conf *c,
    const struct conf *prev, enum conf_keys keys, struct buf *errors,
    struct buf *problems);
void sources_free(struct source *v, size_t n);

/* 1 when some source of c differs on disk from what was read into c. */
int sources_changed(const struct conf *c);
/* 1 when some source of c is watched by scanning. */
int sources_scanned(const struct conf *c);

/* The inotify side. */
struct srcwatch;
/* NULL when out of memory; srcwatch_free accepts NULL. */
struct srcwatch *srcwatch_create(void);
void srcwatch_free(struct srcwatch *w);
/*
 * Watch what c's sources with watch = "inotify" name (dropping earlier
 * watches). -1 with err when a watch cannot be set (the others stay).
 */
int srcwatch_set(struct srcwatch *w, const struct conf *c, char *err, size_t errlen);
/* The descriptor to poll for reading, or -1 when nothing is watched. */
int srcwatch_fd(const struct srcwatch *w);
/* Consume pending events; 1 when there were any. */
int srcwatch_drain(struct srcwatch *w);

#endif
