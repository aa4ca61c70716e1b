/*
 * main.c - dkimgate: options, start-up (config, socket, privileges), signals,
 * reload and shutdown. The only file with process-wide mutable state.
 *
 * Signals: the main thread keeps SIGHUP, SIGTERM and SIGINT unblocked and
 * every other thread blocks them, so Linux delivers them here; the handler
 * writes a byte to a pipe that the main loop reads. libmilter runs in its
 * own thread (its signal thread then only sees signals the main thread could
 * not take), and when it stops on its own it writes to the same pipe.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "decide.h"
#include "keywatch.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "milter.h"
#include "snap.h"
#include "sources.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/dkimgate/dkimgate.conf"
/* How long SIGTERM waits for messages in flight. */
#define DRAIN_SECONDS 30
/* After a change in a watched source, wait this long for more before reloading. */
#define WATCH_SETTLE_MS 200

static int sigpipe_fd[2] = { -1, -1 };

static void
on_signal(int sig)
{
	char c = sig == SIGHUP ? 'H' : 'T';
	int saved = errno;

	(void)!write(sigpipe_fd[1], &c, 1);
	errno = saved;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimgate [-c FILE] [-f] [-l syslog|stderr]   run the milter\n"
	    "       dkimgate [-c FILE] -n                       check the configuration and keys\n"
	    "       dkimgate [-c FILE] -E [--client ADDR] [--user NAME] [--daemon NAME]\n"
	    "                --from ADDRESS                     explain the sign/verify decision\n"
	    "  -c FILE   configuration (default " DEFAULT_CONF ")\n"
	    "  -f        stay in the foreground (systemd, tests)\n"
	    "  -l DEST   log to syslog or stderr, overriding the configuration\n"
	    "  -V        print the version\n");
}

static void
print_errors(const struct buf *errors)
{
	fputs(buf_str(errors), stderr);
}

static int
explain(struct conf *c, const char *client, const char *user, const char *daemon,
    const char *from)
{
	struct decide_in in = { client, user, daemon };
	struct decide_keys dk;
	struct buf ex;
	char why[200];
	char addr[LIMIT_DOMAIN + 130], dom[LIMIT_DOMAIN + 1];
	const char *f = from;
	int n;

	buf_init(&ex, 65536);
	buf_report(&ex, "input: client=%s user=%s daemon=%s from=%s",
	    client ? client : "-", user ? user : "-", daemon ? daemon : "-",
	    from ? from : "-");
	if (decide_mode(c, &in, why, sizeof(why), &ex) == DECIDE_SIGN) {
		if (from != NULL) {
			n = align_from(from, addr, sizeof(addr), dom, sizeof(dom));
			f = n == 1 ? addr : NULL;
			if (n != 1)
				buf_report(&ex, "From: '%s' holds %d addresses", from, n);
		}
		if (decide_keys(c, f, user, &dk, &ex) > 0)
			buf_report(&ex, "result: sign (%s) with %zu key(s)", why, dk.nkeys);
		else
			buf_report(&ex, "result: pass unsigned (%s)", dk.why);
	} else
		buf_report(&ex, "result: verify (%s)", why);
	fputs(buf_str(&ex), stdout);
	buf_release(&ex);
	return 0;
}

/* Unix socket path of "unix:/p" or "local:/p", else NULL. */
static const char *
socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* 1 when something accepts connections on the unix socket at path. */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return rc;
}

/*
 * libmilter writes each reply as its own packet and never sets TCP_NODELAY,
 * so the final "add header, then accept" pair waits on the MTA's delayed
 * ACK (about 40 ms a message). Accepted sockets inherit the option from
 * the listening one on Linux, and libmilter does not expose it: find it.
 */
static void
tcp_nodelay_listener(void)
{
	int fd, one = 1;

	for (fd = 3; fd < 256; fd++) {
		int acc = 0, dom = 0;
		socklen_t l = sizeof(acc), l2 = sizeof(dom);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 || !acc)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l2) < 0 ||
		    (dom != AF_INET && dom != AF_INET6))
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

static int
socket_perms(const struct conf *c)
{
	const char *p = socket_path(c->socket);
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (p == NULL)
		return 0;
	if (c->socket_owner[0]) {
		struct passwd *pw = getpwnam(c->socket_owner);

		if (pw == NULL) {
			log_msg(LOG_ERR, "error event=start reason=\"socket_owner %s: no such user\"",
			    c->socket_owner);
			return -1;
		}
		uid = pw->pw_uid;
	} else if (c->user[0]) {
		struct passwd *pw = getpwnam(c->user);

		if (pw != NULL)
			uid = pw->pw_uid;
	}
	if (c->socket_group[0]) {
		struct group *gr = getgrnam(c->socket_group);

		if (gr == NULL) {
			log_msg(LOG_ERR, "error event=start reason=\"socket_group %s: no such group\"",
			    c->socket_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(p, uid, gid) < 0) {
		log_msg(LOG_ERR, "error event=start reason=\"chown %s: %s\"", p, strerror(errno));
		return -1;
	}
	if (chmod(p, (mode_t)c->socket_mode) < 0) {
		log_msg(LOG_ERR, "error event=start reason=\"chmod %s: %s\"", p, strerror(errno));
		return -1;
	}
	return 0;
}

/* Give up root for good: supplementary groups, group, then user. */
static int
drop_privileges(const struct conf *c)
{
	struct passwd *pw;
	gid_t gid;

	if (c->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_msg(LOG_ERR, "error event=start reason=\"user %s: no such user\"", c->user);
		return -1;
	}
	gid = pw->pw_gid;
	if (c->group[0]) {
		struct group *gr = getgrnam(c->group);

		if (gr == NULL) {
			log_msg(LOG_ERR, "error event=start reason=\"group %s: no such group\"",
			    c->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (getuid() != 0 && geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		log_msg(LOG_ERR, "error event=start reason=\"not root: cannot become %s\"",
		    c->user);
		return -1;
	}
	if (initgroups(pw->pw_name, gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_msg(LOG_ERR, "error event=start reason=\"cannot become %s: %s\"", c->user,
		    strerror(errno));
		return -1;
	}
	/* Paranoia: root must be out of reach now. */
	if (setuid(0) == 0 || geteuid() == 0) {
		log_msg(LOG_ERR, "error event=start reason=\"root privileges still held\"");
		return -1;
	}
	return 0;
}

static int
write_pidfile(const char *path)
{
	char line[32];
	int fd, n;

	if (path[0] == '\0')
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		log_msg(LOG_ERR, "error event=start reason=\"pid file %s: %s\"", path,
		    strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Tell systemd (Type=notify) we are ready, when it asked to be told. */
static void
notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(sun.sun_path))
		return;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	(void)!sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

static void
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		perror("dkimgate: fork");
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if ((pid = fork()) < 0)
		exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		exit(1);
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void *
serve_thread(void *arg)
{
	char c = 'S';

	(void)arg;
	milter_serve();
	(void)!write(sigpipe_fd[1], &c, 1);
	return NULL;
}

/* Settings only a restart applies: say so rather than ignore a change. */
static void
warn_restart_only(const struct conf *old, const struct conf *nw)
{
	const char *names[64];
	size_t i, n = conf_restart_changes(old, nw, names, sizeof(names) / sizeof(names[0]));

	for (i = 0; i < n && i < sizeof(names) / sizeof(names[0]); i++)
		log_msg(LOG_WARNING, "warning event=reload setting=%s reason=\"changed, "
		    "takes effect at the next restart\"", names[i]);
}

/* Each problem with an entry of a source, one log line each. */
static void
log_source_problems(const struct conf *c)
{
	const char *p = c->source_problems, *nl;

	while (p != NULL && *p && (nl = strchr(p, '\n')) != NULL) {
		log_msg(LOG_WARNING, "warning event=source reason=\"%.*s\"", (int)(nl - p), p);
		p = nl + 1;
	}
}

/* The configuration gauges after a reload applied (ok) or refused. */
static void
reload_counted(int ok)
{
	metrics_inc(MC_RELOADS, ok ? MR_SUCCESS : MR_FAILURE);
	metrics_gauge_set(MG_RELOAD_OK, ok);
	if (ok) {
		metrics_gauge_add(MG_CONFIG_GENERATION, 1);
		metrics_gauge_set(MG_RELOAD_OK_TIME, (int64_t)time(NULL));
	}
}

/*
 * Start the metrics endpoint when configured (before privileges go, so a
 * port below 1024 works). 0, or -1 after logging why.
 */
static int
start_metrics(const struct conf *c, struct metrics_http **out)
{
	struct metrics_addr a;
	char err[512];

	*out = NULL;
	metrics_set_version(PACKAGE_VERSION);
	metrics_gauge_set(MG_START_TIME, (int64_t)time(NULL));
	metrics_gauge_set(MG_CONFIG_GENERATION, 1);
	metrics_gauge_set(MG_RELOAD_OK, 1);
	metrics_gauge_set(MG_RELOAD_OK_TIME, (int64_t)time(NULL));
	if (c->metrics[0] == '\0')
		return 0;
	/* conf_load checked it; parse again for the socket address. */
	if (metrics_addr_parse(c->metrics, &a, err, sizeof(err)) < 0 ||
	    (*out = metrics_http_start(&a, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERR, "error event=start reason=\"%s\"", err);
		return -1;
	}
	if (!a.loopback)
		log_msg(LOG_WARNING, "warning event=start reason=\"metrics served on %s, "
		    "not loopback, without authentication (metrics_allow_remote = true): "
		    "firewall it\"", c->metrics);
	log_msg(LOG_NOTICE, "metrics listening on %s", c->metrics);
	return 0;
}

/* A new snapshot (the caller's reference), or NULL when the old one stays. */
static struct snap *
reload(const char *path, const struct conf *running, const struct snap *live,
    const char *trigger)
{
	struct buf errors;
	struct conf *c;
	struct snap *s;
	char err[512];

	buf_init(&errors, 65536);
	c = conf_load_from(path, CONF_KEYS_CHECK, live->conf, &errors);
	if (c == NULL) {
		const char *p = buf_str(&errors), *nl;

		/* Each problem on its own line; the old configuration stays. */
		while (*p && (nl = strchr(p, '\n')) != NULL) {
			log_msg(LOG_ERR, "error event=reload reason=\"%.*s\"", (int)(nl - p), p);
			p = nl + 1;
		}
		log_msg(LOG_ERR, "error event=reload reason=\"configuration refused, "
		    "keeping the running one\"");
		buf_release(&errors);
		reload_counted(0);
		return NULL;
	}
	buf_release(&errors);
	log_source_problems(c);
	warn_restart_only(running, c);
	if ((s = snap_create(c, live, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERR, "error event=reload reason=\"%s; keeping the running "
		    "configuration\"", err);
		reload_counted(0);
		return NULL;
	}
	/* Only "require" makes the reload wait for DNS; otherwise check after the swap. */
	if (s->conf->key_check_mode == KEYCHECK_MODE_REQUIRE &&
	    keywatch_check_all(s, time(NULL)) > 0) {
		log_msg(LOG_ERR, "error event=reload reason=\"keys not published as "
		    "configured (key_check = require); keeping the running configuration\"");
		snap_unref(s);
		reload_counted(0);
		return NULL;
	}
	milter_swap(snap_ref(s));
	log_msg(LOG_NOTICE, "reloaded config=%s keys=%zu signing_table=%zu trigger=%s", path,
	    conf_nkeys_all(s->conf), conf_ntable_all(s->conf), trigger);
	if (s->conf->key_check_mode != KEYCHECK_MODE_REQUIRE)
		keywatch_start(s, time(NULL));
	reload_counted(1);
	return s;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
rearm_watch(struct srcwatch *w, const struct conf *c)
{
	char err[512];

	if (srcwatch_set(w, c, err, sizeof(err)) < 0)
		log_msg(LOG_WARNING, "warning event=watch reason=\"%s; use watch = \\\"scan\\\"\"",
		    err);
}

/* Reload (on a signal or a change seen by the watch); the snapshot now live. */
static struct snap *
reload_and_swap(const char *path, const struct conf *c, struct snap *live,
    struct srcwatch *w, const char *trigger)
{
	struct snap *ns;

	notify_systemd("RELOADING=1");
	if ((ns = reload(path, c, live, trigger)) != NULL) {
		keywatch_stop(live);
		snap_unref(live);
		live = ns;
		rearm_watch(w, live->conf);
	}
	notify_systemd("READY=1");
	return live;
}

/* 1 when some key has a successor not yet in use (worth polling DNS for). */
static int
successor_pending(const struct snap *s)
{
	size_t k;

	for (k = 0; k < s->conf->nkeys; k++)
		if (s->conf->keys[k].succ_key != NULL && !keywatch_uses_successor(s, k))
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "client", required_argument, NULL, 1 },
		{ "user", required_argument, NULL, 2 },
		{ "daemon", required_argument, NULL, 3 },
		{ "from", required_argument, NULL, 4 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = DEFAULT_CONF, *logdest = NULL;
	const char *e_client = NULL, *e_user = NULL, *e_daemon = NULL, *e_from = NULL;
	int foreground = 0, check = 0, explain_mode = 0, ch, stopping = 0, checked = 0;
	struct snap *live = NULL;
	struct srcwatch *watch;
	long long next_succ, next_scan, reload_due = -1;
	struct metrics_http *mh = NULL;
	struct buf errors;
	struct conf *c;
	struct snap *s;
	struct sigaction sa;
	sigset_t sigs;
	pthread_t tid;
	char err[512];
	time_t deadline;

	while ((ch = getopt_long(argc, argv, "c:fnl:EVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		case 'l': logdest = optarg; break;
		case 'E': explain_mode = 1; break;
		case 1: e_client = optarg; break;
		case 2: e_user = optarg; break;
		case 3: e_daemon = optarg; break;
		case 4: e_from = optarg; break;
		case 'V': printf("dkimgate %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Reloads happen after daemonizing (cwd /): keep an absolute path. */
	{
		static char abspath[4096];

		if (realpath(path, abspath) != NULL)
			path = abspath;
	}
	buf_init(&errors, 65536);
	c = conf_load(path, explain_mode ? CONF_KEYS_NONE : check ? CONF_KEYS_DECODE :
	    CONF_KEYS_CHECK, &errors);
	if (c == NULL) {
		print_errors(&errors);
		fprintf(stderr, "dkimgate: %s: configuration refused\n", path);
		return 1;
	}
	buf_release(&errors);
	if (check && c->source_problems != NULL) {
		fputs(c->source_problems, stderr);
		fprintf(stderr, "dkimgate: %s: problems in the key sources (the daemon "
		    "would serve without those entries)\n", path);
		conf_unref(c);
		return 1;
	}
	if (check) {
		printf("%s: OK (%zu keys, %zu signing table entries, %zu users)\n", path,
		    conf_nkeys_all(c), conf_ntable_all(c), c->nusers);
		conf_unref(c);
		return 0;
	}
	if (explain_mode) {
		explain(c, e_client, e_user, e_daemon, e_from);
		conf_unref(c);
		return 0;
	}
	if (logdest != NULL && strcmp(logdest, "stderr") != 0 && strcmp(logdest, "syslog") != 0) {
		fprintf(stderr, "dkimgate: -l takes syslog or stderr\n");
		return 2;
	}
	if (!foreground)
		daemonize();
	log_open("dkimgate", strcmp(logdest ? logdest : c->log, "stderr") == 0);
	log_source_problems(c);
	if (pipe2(sigpipe_fd, O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "error event=start reason=\"pipe: %s\"", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Socket first, as root, then the privileges go. */
	if ((s = snap_create(conf_ref(c), NULL, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERR, "error event=start reason=\"%s\"", err);
		return 1;
	}
	/* With key_check = require the keys must be right before we serve. */
	if (c->key_check_mode == KEYCHECK_MODE_REQUIRE) {
		if (keywatch_check_all(s, time(NULL)) > 0) {
			log_msg(LOG_ERR, "error event=start reason=\"keys not published as "
			    "configured (key_check = require)\"");
			return 1;
		}
		checked = 1;
	}
	live = snap_ref(s);
	{
		const char *sp = socket_path(c->socket);

		/*
		 * A stale socket from a crash would make the bind fail; a live one
		 * belongs to another instance, which must not be robbed of it.
		 */
		if (sp != NULL && socket_in_use(sp)) {
			log_msg(LOG_ERR, "error event=start reason=\"%s: another process is "
			    "listening on it\"", sp);
			return 1;
		}
		if (sp != NULL)
			unlink(sp);
	}
	if (milter_setup(s, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "error event=start reason=\"%s\"", err);
		return 1;
	}
	tcp_nodelay_listener();
	if (start_metrics(c, &mh) < 0)
		return 1;
	if (socket_perms(c) < 0 || write_pidfile(c->pid_file) < 0 || drop_privileges(c) < 0)
		return 1;
	/* Threads made from here on must not take the main thread's signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (pthread_create(&tid, NULL, serve_thread, NULL) != 0) {
		log_msg(LOG_ERR, "error event=start reason=\"cannot start the milter thread\"");
		return 1;
	}
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	log_msg(LOG_NOTICE, "started version=%s config=%s socket=%s keys=%zu user=%s",
	    PACKAGE_VERSION, path, c->socket, conf_nkeys_all(c), c->user[0] ? c->user : "-");
	notify_systemd("READY=1");
	/* Otherwise the DNS checks run beside serving, at a bounded rate. */
	if (!checked)
		keywatch_start(live, time(NULL));
	if ((watch = srcwatch_create()) == NULL) {
		log_msg(LOG_ERR, "error event=start reason=\"out of memory\"");
		return 1;
	}
	rearm_watch(watch, live->conf);
	next_succ = now_ms() + live->conf->key_check_interval * 1000LL;
	next_scan = now_ms() + live->conf->watch_interval * 1000LL;
	for (;;) {
		struct pollfd pfd[2] = { { sigpipe_fd[0], POLLIN, 0 },
		    { srcwatch_fd(watch), POLLIN, 0 } };
		long long now = now_ms(), until = -1;
		char b;
		ssize_t n;

		if (successor_pending(live))
			until = next_succ;
		if (sources_scanned(live->conf) && (until < 0 || next_scan < until))
			until = next_scan;
		if (reload_due >= 0 && (until < 0 || reload_due < until))
			until = reload_due;
		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, until < 0 ? -1 :
		    until <= now ? 0 : (int)(until - now)) < 0 && errno != EINTR)
			break;
		now = now_ms();
		if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN) && srcwatch_drain(watch) &&
		    reload_due < 0)
			reload_due = now + WATCH_SETTLE_MS;	/* let a burst of changes end */
		if (successor_pending(live) && now >= next_succ) {
			keywatch_poll(live, time(NULL));
			next_succ = now + live->conf->key_check_interval * 1000LL;
		}
		if (sources_scanned(live->conf) && now >= next_scan) {
			next_scan = now + live->conf->watch_interval * 1000LL;
			if (reload_due < 0)
				reload_due = now;
		}
		if (reload_due >= 0 && now >= reload_due && !stopping) {
			reload_due = -1;
			/* Only what changed is read again; nothing changed, nothing to do. */
			if (sources_changed(live->conf))
				live = reload_and_swap(path, c, live, watch, "watch");
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		n = read(sigpipe_fd[0], &b, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (b == 'H' && !stopping) {
			live = reload_and_swap(path, c, live, watch, "signal");
		} else if (b == 'T' && !stopping) {
			stopping = 1;
			keywatch_stop(live);
			notify_systemd("STOPPING=1");
			log_msg(LOG_NOTICE, "stopping inflight=%d", milter_inflight());
			milter_drain();
			break;
		} else if (b == 'S')
			break;
	}
	/*
	 * Messages already in progress get their answer before we go, so
	 * libmilter must keep serving them: smfi_stop() would end every
	 * session that is waiting for the MTA's next packet.
	 */
	deadline = time(NULL) + DRAIN_SECONDS;
	while (stopping && milter_inflight() > 0 && time(NULL) < deadline) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	/*
	 * A message counts as done just before libmilter writes its final
	 * reply: give those writes a moment.
	 */
	if (stopping) {
		struct timespec grace = { 0, 300 * 1000 * 1000 };

		nanosleep(&grace, NULL);
	}
	log_msg(LOG_NOTICE, "stopped inflight=%d", milter_inflight());
	if (c->pid_file[0])
		unlink(c->pid_file);
	{
		const char *sp = socket_path(c->socket);

		if (sp != NULL)
			unlink(sp);
	}
	/*
	 * Leave without joining libmilter's and libunbound's threads: the
	 * listener only notices smfi_stop() at its next poll timeout and a
	 * resolver still chasing an unanswered query can take many seconds
	 * to wind down, while every message has had its answer already.
	 * What they hold stays reachable (no leak report) and goes with the
	 * process.
	 */
	(void)tid;
	metrics_http_stop(mh);
	exit(0);
}
