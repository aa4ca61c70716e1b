/*
 * test_keywatch.c - the daemon's checks of its own keys in DNS
 * (keywatch.c), against a real DNS server on loopback (t/dns/testdns): a
 * key published and matching, one missing, one whose record holds another
 * key, one that DNS does not answer for; the counts and per-key states;
 * a successor switched to once it is published, recorded under state_dir,
 * and one whose planned time has not come; the background pass; the path
 * of the switch record.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "conf.h"
#include "keycheck.h"
#include "keywatch.h"
#include "snap.h"
#include "testutil.h"
#include "tu_dns.h"
#include "keyfile.h"

static struct tu_dns server;

/* Keys in the configuration, in order, and what a check finds of each. */
static const struct {
	const char *id, *selector, *fixture;
	enum metrics_keystate state;
} keys[] = {
	{ "ok", "s1", "rsa2048-pkcs1.pem", MKS_OK },
	{ "missing", "gone", "rsa2048-pkcs1.pem", MKS_MISSING },
	{ "other", "s3", "rsa1024.pem", MKS_MISMATCH },
	{ "silent", "s4", "rsa2048-pkcs1.pem", MKS_UNKNOWN },
	{ "rotating", "old", "rsa2048-pkcs1.pem", MKS_OK },
	{ "later", "old2", "rsa2048-pkcs1.pem", MKS_OK },
};

/*
 * "v=DKIM1; k=TYPE; p=..." for a fixture's public half. Called from main()
 * before the suite runs, where Check's assertions cannot be used: NULL on
 * failure.
 */
static char *
record_for(const char *fixture)
{
	const char *top = getenv("top_srcdir");
	struct crypto_key *k = NULL;
	unsigned char *der = NULL;
	char err[256], path[4096], *b64 = NULL, *out = NULL;
	size_t n = 0;
	struct buf b;

	if (snprintf(path, sizeof(path), "%s/%s", top != NULL && *top != '\0' ?
	    top : TEST_DATA_DIR "/../..", "t/data/") >= (int)sizeof(path) ||
	    strlen(path) + strlen(fixture) >= sizeof(path))
		return NULL;
	memcpy(path + strlen(path), fixture, strlen(fixture) + 1);
	if (keyfile_load_private(path, &k, err, sizeof(err)) < 0 ||
	    crypto_key_public_der(k, &der, &n) < 0 ||
	    (b64 = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		goto done;
	EVP_EncodeBlock((unsigned char *)b64, der, (int)n);
	buf_init(&b, 16384);
	if (buf_printf(&b, "v=DKIM1; k=%s; p=%s", crypto_key_type(k) == CRYPTO_ED25519 ?
	    "ed25519" : "rsa", b64) == 0)
		out = buf_steal(&b);
	buf_release(&b);
done:
	free(b64);
	free(der);
	crypto_key_unref(k);
	return out;
}

/* The records: s1, old, old2 and the successors new, new2. */
static char *
records(void)
{
	char *r = record_for("rsa2048-pkcs1.pem"), *e = record_for("ed25519.pem");
	char *out = NULL;
	struct buf b;

	buf_init(&b, 65536);
	if (r != NULL && e != NULL && buf_printf(&b,
	    "s1._domainkey.example.com\tTXT\t%s\n"
	    "s3._domainkey.example.com\tTXT\t%s\n"
	    "old._domainkey.example.com\tTXT\t%s\n"
	    "new._domainkey.example.com\tTXT\t%s\n"
	    "old2._domainkey.example.com\tTXT\t%s\n"
	    "new2._domainkey.example.com\tTXT\t%s\n", r, r, r, e, r, e) == 0)
		out = buf_steal(&b);
	buf_release(&b);
	free(r);
	free(e);
	return out;
}

struct fixture {
	char *files[8], *state_dir, *path;
	struct snap *snap;
};

static void
setup(struct fixture *f, const char *key_check)
{
	struct buf text, errors;
	char err[256] = "", tmpl[4096];
	struct conf *c;
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *pem = tu_read_data(keys[i].fixture, NULL);

		f->files[i] = tu_write_tmp(pem);
		free(pem);
	}
	{
		char *pem = tu_read_data("ed25519.pem", NULL);

		f->files[6] = tu_write_tmp(pem);
		free(pem);
	}
	snprintf(tmpl, sizeof(tmpl), "%s/tu_state.XXXXXX",
	    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	f->state_dir = strdup(tmpl);
	buf_init(&text, 65536);
	buf_init(&errors, 65536);
	ck_assert_int_eq(buf_printf(&text,
	    "key_check = \"%s\"; key_check_rate = 1000; state_dir = \"%s\";\n"
	    "dns = { resolver = \"%s\"; trust_anchor = \"\"; timeout = 2; };\n"
	    "keys = (\n", key_check, f->state_dir, server.resolver), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ck_assert_int_eq(buf_printf(&text, "%s{ id = \"%s\"; domain = \"%s\"; "
		    "selector = \"%s\"; file = \"%s\"", i ? ",\n" : "", keys[i].id,
		    strcmp(keys[i].id, "silent") == 0 ? "slow.example" : "example.com",
		    keys[i].selector, f->files[i]), 0);
		if (strcmp(keys[i].id, "rotating") == 0)
			ck_assert_int_eq(buf_printf(&text, "; successor = { selector = \"new\"; "
			    "file = \"%s\"; }", f->files[6]), 0);
		if (strcmp(keys[i].id, "later") == 0)
			ck_assert_int_eq(buf_printf(&text, "; successor = { selector = \"new2\"; "
			    "file = \"%s\"; after = \"2999-01-01\"; }", f->files[6]), 0);
		ck_assert_int_eq(buf_puts(&text, " }"), 0);
	}
	ck_assert_int_eq(buf_puts(&text, "\n);\n"), 0);
	f->path = tu_write_tmp(buf_str(&text));
	c = conf_load(f->path, CONF_KEYS_DECODE, &errors);
	ck_assert_msg(c != NULL, "%s", buf_str(&errors));
	f->snap = snap_create(c, NULL, err, sizeof(err));
	ck_assert_msg(f->snap != NULL, "%s", err);
	buf_release(&text);
	buf_release(&errors);
}

static void
teardown(struct fixture *f)
{
	struct buf cmd;
	size_t i;

	snap_unref(f->snap);
	for (i = 0; i < 8; i++)
		if (f->files[i] != NULL) {
			unlink(f->files[i]);
			free(f->files[i]);
		}
	unlink(f->path);
	free(f->path);
	buf_init(&cmd, 8192);
	ck_assert_int_eq(buf_printf(&cmd, "rm -rf '%s'", f->state_dir), 0);
	ck_assert_int_eq(system(buf_str(&cmd)), 0);
	buf_release(&cmd);
	free(f->state_dir);
}

static enum metrics_keystate seen[8];

static void
collect(void *arg, const struct conf_key *k, enum metrics_keystate st)
{
	const struct snap *s = arg;

	seen[k - s->conf->keys] = st;
}

static void
check_results(struct fixture *f)
{
	struct keywatch_counts n;
	size_t i;

	memset(seen, 0xff, sizeof(seen));
	keywatch_results(f->snap, collect, f->snap, &n);
	ck_assert_uint_eq(n.keys, 6);
	ck_assert_uint_eq(n.checked, 6);
	ck_assert_uint_eq(n.ok, 3);
	ck_assert_uint_eq(n.missing, 1);
	ck_assert_uint_eq(n.mismatching, 1);
	ck_assert_uint_eq(n.unknown, 1);
	ck_assert_int_eq(n.done, 1);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(seen[i] == keys[i].state, "key %s: state %d, want %d",
		    keys[i].id, seen[i], keys[i].state);
}

START_TEST(test_check_all)
{
	struct fixture f;
	char path[4096];
	struct stat st;

	setup(&f, "require");
	/* Missing, mismatching and unanswered keys count as bad. */
	ck_assert_int_eq(keywatch_check_all(f.snap, time(NULL)), 3);
	check_results(&f);
	/* The published successor is in use and its switch recorded ... */
	ck_assert_int_eq(keywatch_uses_successor(f.snap, 4), 1);
	ck_assert_int_eq(keycheck_state_path(f.state_dir, "rotating", "new", path,
	    sizeof(path)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	/* ... the one whose time has not come is not, nor are keys without one. */
	ck_assert_int_eq(keywatch_uses_successor(f.snap, 5), 0);
	ck_assert_int_eq(keywatch_uses_successor(f.snap, 0), 0);
	ck_assert_int_eq(keycheck_state_path(f.state_dir, "later", "new2", path,
	    sizeof(path)), 0);
	ck_assert_int_eq(stat(path, &st), -1);
	teardown(&f);
}
END_TEST

START_TEST(test_background)
{
	struct fixture f;
	struct keywatch_counts n;
	int i;

	setup(&f, "warn");
	keywatch_start(f.snap, time(NULL));
	for (i = 0; i < 300; i++) {
		keywatch_results(f.snap, NULL, NULL, &n);
		if (n.done)
			break;
		usleep(50000);
	}
	check_results(&f);
	keywatch_stop(f.snap);
	teardown(&f);
}
END_TEST

START_TEST(test_off)
{
	struct fixture f;
	struct keywatch_counts n;

	setup(&f, "off");
	ck_assert_int_eq(keywatch_check_all(f.snap, time(NULL)), 0);
	keywatch_results(f.snap, NULL, NULL, &n);
	ck_assert_uint_eq(n.checked, 0);
	/* Successors are decided whatever key_check says. */
	ck_assert_int_eq(keywatch_uses_successor(f.snap, 4), 1);
	teardown(&f);
}
END_TEST

static const struct {
	const char *dir, *id, *succ;
	size_t outlen;
	int rc;
	const char *path;
} paths[] = {
	{ "/var/lib/dkimgate", "example", "s2", 4096, 0, "/var/lib/dkimgate/rotated-example-s2" },
	{ "", "example", "s2", 4096, -1, NULL },
	{ "/s", "k", "n", sizeof("/s/rotated-k-n"), 0, "/s/rotated-k-n" },
	{ "/s", "k", "n", sizeof("/s/rotated-k-n") - 1, -1, NULL },
};

START_TEST(test_state_path)
{
	char out[4096];

	ck_assert_int_eq(keycheck_state_path(paths[_i].dir, paths[_i].id, paths[_i].succ, out,
	    paths[_i].outlen), paths[_i].rc);
	if (paths[_i].rc == 0)
		ck_assert_str_eq(out, paths[_i].path);
	ck_assert_int_eq(keycheck_state_path(NULL, "k", "n", out, sizeof(out)), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("keywatch");
	TCase *tc = tu_tcase("keywatch");
	char *r = records();
	int rc = r == NULL ? -1 : tu_dns_start(&server, r, "--blackhole slow.example");

	free(r);
	if (rc != 0) {
		tu_dns_stop(&server);
		return rc == 77 ? 77 : EXIT_FAILURE;
	}
	tcase_add_test(tc, test_check_all);
	tcase_add_test(tc, test_background);
	tcase_add_test(tc, test_off);
	tcase_add_loop_test(tc, test_state_path, 0, sizeof(paths) / sizeof(paths[0]));
	suite_add_tcase(s, tc);
	rc = tu_run(s);
	tu_dns_stop(&server);
	return rc;
}
