/*
 * keys.c - the key records the verify and sign harnesses hand the engine in
 * place of DNS, and the private keys the sign harness signs with.
 *
 * The records are those of the conformance corpus (t/data/dkim-corpus/
 * records.tsv), the RFC 8463 example keys, and the public halves of two
 * test keys of t/data, published as ed._domainkey.fuzz.example
 * (t/data/ed25519.pem) and rsa._domainkey.fuzz.example (t/data/rsa1024.pem),
 * which the signed seeds use. Loaded once; lookups are by the lower-cased
 * owner name. Not thread-safe (harnesses run one input at a time).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "crypto.h"
#include "fuzz.h"
#include "fuzz_keys.h"

#define MAX_RECORDS 256

struct record {
	char *owner;
	char *txt;
};

static struct record records[MAX_RECORDS];
static size_t nrecords;
static struct crypto_key *signing[2];
static int loaded;

static void
add(const char *owner, size_t olen, const char *txt, size_t tlen)
{
	if (nrecords == MAX_RECORDS)
		fuzz_fail("too many key records");
	records[nrecords].owner = fuzz_strndup((const uint8_t *)owner, olen);
	records[nrecords].txt = fuzz_strndup((const uint8_t *)txt, tlen);
	nrecords++;
}

static char *
slurp(const char *name, size_t *len)
{
	struct buf path, b;
	FILE *fp;
	char chunk[4096];
	size_t n;

	buf_init(&path, 4096);
	if (buf_printf(&path, "%s/%s", fuzz_data_dir(), name) < 0)
		fuzz_fail("path too long");
	if ((fp = fopen(buf_str(&path), "rb")) == NULL)
		fuzz_fail("cannot read %s (set FUZZ_DATA_DIR to the t/data directory)",
		    buf_str(&path));
	buf_init(&b, 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			fuzz_fail("%s too large", buf_str(&path));
	fclose(fp);
	buf_release(&path);
	*len = b.len;
	return buf_steal(&b);
}

/* owner TAB type TAB value [TAB note], '#' comments. */
static void
load_tsv(void)
{
	size_t len;
	char *text = slurp("dkim-corpus/records.tsv", &len), *line, *next;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *t1, *t2, *t3;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line == '#' || (t1 = strchr(line, '\t')) == NULL ||
		    (t2 = strchr(t1 + 1, '\t')) == NULL)
			continue;
		if ((size_t)(t2 - t1 - 1) != 3 || strncmp(t1 + 1, "TXT", 3) != 0)
			continue;
		t3 = strchr(t2 + 1, '\t');
		add(line, (size_t)(t1 - line), t2 + 1,
		    t3 ? (size_t)(t3 - t2 - 1) : strlen(t2 + 1));
	}
	free(text);
}

static struct crypto_key *
load_private(const char *file, const char *owner, const char *k)
{
	struct crypto_key *key;
	unsigned char *der;
	size_t len, dlen;
	char *pem = slurp(file, &len), err[256], *b64;
	struct buf rec;

	if (crypto_key_private_pem(pem, len, &key, err, sizeof(err)) < 0)
		fuzz_fail("%s: %s", file, err);
	free(pem);
	if (crypto_key_public_der(key, &der, &dlen) < 0)
		fuzz_fail("%s: cannot export the public key", file);
	if ((b64 = malloc(4 * (dlen / 3 + 1) + 1)) == NULL)
		fuzz_fail("out of memory");
	crypto_b64_encode(der, dlen, b64);
	buf_init(&rec, LIMIT_KEY_RECORD);
	if (buf_printf(&rec, "v=DKIM1; k=%s; p=%s", k, b64) < 0)
		fuzz_fail("record too long");
	add(owner, strlen(owner), rec.data, rec.len);
	buf_release(&rec);
	free(b64);
	free(der);
	return key;
}

static void
load(void)
{
	static const char rfc8463_ed[] =
	    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	static const char rfc8463_rsa[] =
	    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3i"
	    "dY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1L"
	    "xj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";
	static const char *const ed_owner = "brisbane._domainkey.football.example.com";
	static const char *const rsa_owner = "test._domainkey.football.example.com";

	load_tsv();
	add(ed_owner, strlen(ed_owner), rfc8463_ed, sizeof(rfc8463_ed) - 1);
	add(rsa_owner, strlen(rsa_owner), rfc8463_rsa, sizeof(rfc8463_rsa) - 1);
	signing[FUZZ_KEY_ED25519] = load_private("ed25519.pem", "ed._domainkey.fuzz.example",
	    "ed25519");
	signing[FUZZ_KEY_RSA] = load_private("rsa1024.pem", "rsa._domainkey.fuzz.example",
	    "rsa");
	loaded = 1;
}

size_t
fuzz_keys_lookup(const char *selector, const char *domain, const char **txt,
    size_t *txtlen, size_t max)
{
	struct buf name;
	size_t i, n = 0;

	if (!loaded)
		load();
	buf_init(&name, 2 * LIMIT_DOMAIN + 16);
	if (buf_printf(&name, "%s._domainkey.%s", selector, domain) < 0) {
		buf_release(&name);
		return 0;
	}
	/* An absolute name is the same name. */
	if (name.len > 0 && name.data[name.len - 1] == '.')
		buf_truncate(&name, name.len - 1);
	for (i = 0; i < nrecords && n < max; i++)
		if (strcasecmp(records[i].owner, buf_str(&name)) == 0) {
			txt[n] = records[i].txt;
			txtlen[n] = strlen(records[i].txt);
			n++;
		}
	buf_release(&name);
	return n;
}

struct crypto_key *
fuzz_keys_signing(enum fuzz_key which)
{
	if (!loaded)
		load();
	return signing[which];
}
