/*
 * srcodk.h - OpenDKIM's KeyTable and SigningTable files as a key and
 * signing table, so an OpenDKIM setup can be used as it is.
 *
 * KeyTable lines are "NAME DOMAIN:SELECTOR:KEYFILE"; SigningTable lines
 * are "PATTERN NAME [NAME...]", and a pattern given on several lines
 * collects the keys of each. Blank lines and text from '#' are ignored.
 * A SigningTable read as "refile:" (regular-expression file) holds
 * patterns matched against the whole address; those that have a meaning
 * in dkimgate's table are taken over:
 *     *  *@*                        ->  *
 *     *@example.com                 ->  example.com
 *     *@*.example.com  *.example.com ->  *.example.com
 *     user@example.com              ->  user@example.com
 * A plain SigningTable is looked up by address, then domain, as OpenDKIM
 * does: "user@example.com", "example.com", ".example.com" (subdomains) and
 * "*" are taken over.
 *
 * Whatever cannot be carried over is a problem, reported as
 * "file:line: reason" and left out, never fatal: a key with '%' for its
 * domain or key data instead of a file name, any other wildcard, a line
 * without a key, a key name that is not in the KeyTable, a duplicate key
 * name (the first stays), a key file that does not exist (the key stays,
 * and fails the mail it should sign). The order of the lines does not
 * matter: the most specific pattern wins, as everywhere in dkimgate.
 */
#ifndef DKIMGATE_SRCODK_H
#define DKIMGATE_SRCODK_H

#include <stddef.h>

#include "buf.h"
#include "keyset.h"

/*
 * Read the pair. Problems are appended to problems; NULL with err when a
 * file cannot be read at all (or out of memory). When notes is not NULL,
 * things that are carried over but behave differently (OpenDKIM's first
 * match in file order, for instance) are appended to it, for the importer.
 */
struct keyset *srcodk_read(const char *keytable, const char *signtable, int refile,
    struct buf *problems, struct buf *notes, char *err, size_t errlen);

/*
 * The dkimgate pattern for an OpenDKIM SigningTable pattern, into out;
 * -1 when it has no equivalent (why says what).
 */
int srcodk_pattern(const char *p, int refile, char *out, size_t outlen, const char **why);

#endif
