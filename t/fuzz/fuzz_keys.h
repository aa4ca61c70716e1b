/*
 * fuzz_keys.h - key records and signing keys for the fuzz harnesses
 * (keys.c): DNS replaced by a fixed table, loaded on first use from t/data.
 */
#ifndef DKIMGATE_FUZZ_KEYS_H
#define DKIMGATE_FUZZ_KEYS_H

#include <stddef.h>

#include "crypto.h"

enum fuzz_key {
	FUZZ_KEY_ED25519 = 0,	/* ed._domainkey.fuzz.example */
	FUZZ_KEY_RSA = 1	/* rsa._domainkey.fuzz.example */
};

/*
 * The TXT records published at SELECTOR._domainkey.DOMAIN (case-insensitive,
 * a trailing dot ignored): at most max of them into txt/txtlen, which stay
 * valid for the life of the process. Returns how many.
 */
size_t fuzz_keys_lookup(const char *selector, const char *domain, const char **txt,
    size_t *txtlen, size_t max);

/* The private key behind one of the fuzz.example records (shared; do not unref). */
struct crypto_key *fuzz_keys_signing(enum fuzz_key which);

#endif
