/*
 * tu_dns.h - the test DNS server (t/dns/testdns) for the unit suites that
 * need real answers: one unbound on 127.0.0.1 and a free port, serving the
 * records given, in a scratch directory of its own.
 *
 * Start it in main() before the suite runs (Check forks each case, and the
 * children inherit the struct); stop it after. tu_dns_start returns 0 when
 * the server answers, 77 when unbound is not installed and CI is not set
 * (the suite then exits 77, automake's skip), and -1 with a message on
 * stderr otherwise. Not thread-safe.
 */
#ifndef DKIMGATE_TU_DNS_H
#define DKIMGATE_TU_DNS_H

struct tu_dns {
	char dir[4096];		/* scratch directory (mkdtemp) */
	int port;
	char resolver[64];	/* "127.0.0.1@PORT", for dns_create */
	int started;
};

/*
 * records: the RECORDS.tsv text (owner TAB type TAB value lines); opts:
 * zone options for testdns ("--blackhole slow.example"), or NULL.
 */
int tu_dns_start(struct tu_dns *d, const char *records, const char *opts);
/* Stop the server (by the PID testdns recorded) and remove the directory. */
void tu_dns_stop(struct tu_dns *d);

#endif
