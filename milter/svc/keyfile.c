/*
 * keyfile.c - private key files (see keyfile.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "keyfile.h"

/* Far above any key file; a bigger file is not a key. */
#define KEYFILE_MAX (1024 * 1024)

int
keyfile_load_private(const char *path, struct crypto_key **out, char *err,
    size_t errlen)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b, KEYFILE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			close(fd);
			crypto_cleanse(b.data, b.len);
			buf_release(&b);
			snprintf(err, errlen, "%s: key file too large", path);
			return -1;
		}
	}
	crypto_cleanse(chunk, sizeof(chunk));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		crypto_cleanse(b.data, b.len);
		buf_release(&b);
		return -1;
	}
	rc = crypto_key_private_pem(buf_str(&b), b.len, out, err, errlen);
	crypto_cleanse(b.data, b.len);
	buf_release(&b);
	if (rc < 0) {
		char tmp[256];

		str_copy(tmp, err, sizeof(tmp));
		snprintf(err, errlen, "%s: %s", path, tmp);
	}
	return rc;
}

int
keyfile_write_private(const struct crypto_key *k, const char *path, char *err,
    size_t errlen)
{
	char *pem;
	size_t len, off = 0;
	ssize_t n = 0;
	int fd, ok;

	if (crypto_key_private_to_pem(k, &pem, &len, err, errlen) < 0)
		return -1;
	/* O_EXCL: never overwrite an existing key. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		crypto_cleanse(pem, len);
		free(pem);
		return -1;
	}
	while (off < len && (n = write(fd, pem + off, len - off)) > 0)
		off += (size_t)n;
	ok = off == len;
	if (close(fd) != 0)
		ok = 0;
	crypto_cleanse(pem, len);
	free(pem);
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}
