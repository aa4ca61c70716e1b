/*
 * srcdir.h - a key directory as a key and signing table.
 *
 * Every file DOMAIN.SELECTOR.pem in the directory is a key for DOMAIN with
 * SELECTOR (the text after the last dot before ".pem"), with the id
 * "DOMAIN.SELECTOR"; mail from DOMAIN (and, with subdomains, from any name
 * under it) is signed with every key of DOMAIN, in selector order, at most
 * LIMIT_SIGNERS. Names starting with a dot and names not ending in ".pem"
 * are ignored (dkimctl genkey's .txt files live beside the keys); a ".pem"
 * name that does not parse is a problem. The keys are not read here: the
 * daemon decodes them on first use.
 */
#ifndef DKIMGATE_SRCDIR_H
#define DKIMGATE_SRCDIR_H

#include <stddef.h>

#include "buf.h"
#include "keyset.h"

/*
 * Read directory dir. Problems with single files are appended to problems
 * as "dir/name: reason\n" lines and the file is left out; NULL with err
 * when the directory cannot be read at all (or out of memory).
 */
struct keyset *srcdir_read(const char *dir, int subdomains, struct buf *problems,
    char *err, size_t errlen);

#endif
