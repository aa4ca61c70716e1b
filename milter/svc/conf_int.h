/*
 * conf_int.h - what conf.c and conf_keys.c share while loading a file:
 * the loader state, the problem reporter and the parsers of the key lists.
 * Private to the configuration module.
 */
#ifndef DKIMGATE_CONF_INT_H
#define DKIMGATE_CONF_INT_H

#include <libconfig.h>

#include "buf.h"
#include "conf.h"

struct loader {
	const char *file;
	struct buf *errors;
	int nerr;
	enum conf_keys read_keys;
	const struct conf *prev;	/* the running configuration, or NULL */
	struct buf *problems;		/* source entries left out */
};

/* Report a problem at setting s (its line; 0 when NULL) and count it. */
void conf_err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The list settings keys, signing_table and users (conf_keys.c). */
void conf_load_keys(struct loader *ld, config_setting_t *s, struct conf *c);
void conf_load_table(struct loader *ld, config_setting_t *s, struct conf *c);
void conf_load_users(struct loader *ld, config_setting_t *s, struct conf *c);

#endif
