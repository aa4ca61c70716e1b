/*
 * testutil.c - fixtures, keys and a seeded PRNG for the unit suites.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "testutil.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "t/data"
#endif

char *
tu_data_path(const char *name)
{
	struct buf path;
	const char *top = getenv("top_srcdir");

	buf_init(&path, 4096);
	if (top != NULL && *top != '\0')
		ck_assert_int_eq(buf_printf(&path, "%s/t/data/%s", top, name), 0);
	else
		ck_assert_int_eq(buf_printf(&path, "%s/%s", TEST_DATA_DIR, name), 0);
	return buf_steal(&path);
}

char *
tu_read_data(const char *name, size_t *len)
{
	struct buf data;
	char *path = tu_data_path(name);
	char chunk[8192];
	size_t n;
	FILE *fp;

	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open fixture %s", path);
	free(path);
	buf_init(&data, 64 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		ck_assert_int_eq(buf_append(&data, chunk, n), 0);
	fclose(fp);
	if (len != NULL)
		*len = data.len;
	return buf_steal(&data);
}

char *
tu_write_tmp(const char *text)
{
	struct buf path;
	const char *tmp = getenv("TMPDIR");
	size_t n = strlen(text);
	char *p;
	int fd;

	buf_init(&path, 4096);
	ck_assert_int_eq(buf_printf(&path, "%s/tu.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp"), 0);
	p = buf_steal(&path);
	fd = mkstemp(p);
	ck_assert_msg(fd >= 0, "mkstemp %s", p);
	ck_assert_msg(write(fd, text, n) == (ssize_t)n, "write %s", p);
	ck_assert_int_eq(close(fd), 0);
	return p;
}

struct crypto_key *
tu_load_key(const char *name)
{
	struct crypto_key *k = NULL;
	char err[256] = "";
	size_t len;
	char *pem = tu_read_data(name, &len);
	int rc = crypto_key_private_pem(pem, len, &k, err, sizeof(err));

	free(pem);
	ck_assert_msg(rc == 0 && k != NULL, "key %s: %s", name, err);
	return k;
}

char *
tu_b64(const unsigned char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	ck_assert_ptr_nonnull(out);
	crypto_b64_encode(p, n, out);
	return out;
}

char *
tu_sha256_b64(const void *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	ck_assert_int_eq(EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL), 1);
	return tu_b64(md, mdlen);
}

char *
tu_key_record(const struct crypto_key *k, const char *extra)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	char *b64;
	struct buf rec;

	ck_assert_int_eq(crypto_key_public_der(k, &der, &derlen), 0);
	b64 = tu_b64(der, derlen);
	free(der);
	buf_init(&rec, 16384);
	ck_assert_int_eq(buf_printf(&rec, "v=DKIM1; k=%s; p=%s%s",
	    crypto_key_type(k) == CRYPTO_ED25519 ? "ed25519" : "rsa", b64,
	    extra != NULL ? extra : ""), 0);
	free(b64);
	return buf_steal(&rec);
}

uint64_t
tu_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

size_t
tu_rand_below(uint64_t *s, size_t n)
{
	return n == 0 ? 0 : (size_t)(tu_rand(s) % n);
}

TCase *
tu_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	return tc;
}

int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
