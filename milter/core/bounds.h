/*
 * bounds.h - every hard maximum dkimgate enforces, named in one place.
 *
 * Inputs come from the network, so every growable buffer is created with one
 * of these as its ceiling. Exceeding one is an error the caller turns into a
 * result (permerror, tempfail), never a crash.
 */
#ifndef DKIMGATE_BOUNDS_H
#define DKIMGATE_BOUNDS_H

/* One header field, folded lines included (Postfix's header_size_limit is 100 KB). */
#define LIMIT_HEADER_FIELD   (256 * 1024)
/* All header fields of one message together. */
#define LIMIT_HEADER_TOTAL   (1024 * 1024)
/*
 * The largest milter packet taken from the MTA. libmilter drops the
 * connection, telling us nothing, on a bigger one (64 KB by default), so
 * this is set well above every limit here: a header field up to this size
 * reaches dkimgate, which logs it and answers as for any oversized header.
 */
#define LIMIT_MILTER_PACKET  (16 * 1024 * 1024)
/* Number of header fields kept for one message. */
#define LIMIT_HEADER_COUNT   2000
/* Tags in one tag=value list (signature or key record). */
#define LIMIT_TAGS           64
/* Names listed in one h= tag. */
#define LIMIT_SIGNED_HEADERS 128
/* DKIM-Signature fields looked at per message (more are reported, not verified). */
#define LIMIT_SIGNATURES     32
/* Signatures made per message. */
#define LIMIT_SIGNERS        8
/* A key record after joining its strings. */
#define LIMIT_KEY_RECORD     8192
/*
 * RSA key sizes (RFC 8301): below the minimum a key neither signs nor
 * verifies; below the recommended size it is weak; verifiers need only
 * handle keys up to the maximum.
 */
#define LIMIT_RSA_MIN_BITS         1024
#define LIMIT_RSA_RECOMMENDED_BITS 2048
#define LIMIT_RSA_MAX_BITS         4096
/* Domain names. */
#define LIMIT_DOMAIN         255
/* A reason text attached to a result. */
#define LIMIT_REASON         160
/* A formatted DKIM-Signature or Authentication-Results header. */
#define LIMIT_OUT_HEADER     (64 * 1024)
/* Signature value in bytes (RSA 4096 = 512 bytes; 8192 bits leaves room). */
#define LIMIT_SIG_BYTES      1024

#endif
