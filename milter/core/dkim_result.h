/*
 * dkim_result.h - result codes shared by the engine, the tools and the milter.
 *
 * The names are those of RFC 8601 section 2.7.1.
 */
#ifndef DKIMGATE_DKIM_RESULT_H
#define DKIMGATE_DKIM_RESULT_H

enum dkim_status {
	DKIM_NONE = 0,
	DKIM_PASS,
	DKIM_FAIL,
	DKIM_NEUTRAL,
	DKIM_POLICY,
	DKIM_TEMPERROR,
	DKIM_PERMERROR
};

/* "pass", "fail", ... as written in Authentication-Results. */
const char *dkim_status_name(enum dkim_status st);

#endif
