/*
 * keyfile.h - private key files: read one into a key, write a new one.
 *
 * The DKIM engine takes keys as bytes (crypto.h); this is the file side,
 * for the daemon's configuration and key cache and for dkimctl. Key bytes
 * read or written pass through memory that is cleared before it is freed.
 * Thread-safe. 0 on success; -1 with the reason (naming the file) in err.
 */
#ifndef DKIMGATE_KEYFILE_H
#define DKIMGATE_KEYFILE_H

#include <stddef.h>

#include "crypto.h"

/* Read a PEM private key (PKCS#8 or PKCS#1/traditional) from path. */
int keyfile_load_private(const char *path, struct crypto_key **out, char *err,
    size_t errlen);
/*
 * Write k as PEM PKCS#8 to a new file at path, mode 0600; an existing file
 * is never overwritten, and a failed write leaves no file behind.
 */
int keyfile_write_private(const struct crypto_key *k, const char *path, char *err,
    size_t errlen);

#endif
