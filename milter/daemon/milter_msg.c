/*
 * milter_msg.c - what the callbacks (milter.c) and the verifying end
 * (verify.c) both need for a message: its queue id for log lines, replies
 * from a configured action, field values as libmilter wants them, and why
 * an insert failed. See milter_msg.h. Only the callers log.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "bounds.h"
#include "buf.h"
#include "milter_msg.h"

void
milter_insheader_failed(const struct conn *c, const struct msg *m, const char *field,
    char *why, size_t len)
{
	struct timespec now;
	long ms;

	/*
	 * libmilter fails an insert when the action was not negotiated, or
	 * when the write to the MTA fails: the MTA is gone, most likely
	 * because it stopped waiting (its milter timeout) or was stopped.
	 */
	if (!(c->actions & SMFIF_ADDHDRS)) {
		snprintf(why, len, "the MTA does not let milters add header fields; %s "
		    "not added", field);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(now.tv_sec - m->eom_start.tv_sec) * 1000 +
	    (now.tv_nsec - m->eom_start.tv_nsec) / 1000000;
	snprintf(why, len, "the MTA closed the connection before the reply, %ld ms after "
	    "the end of the message (its milter timeout, or it was stopped); %s not added",
	    ms, field);
}

const char *
milter_qid(const struct msg *m)
{
	return m && m->qid[0] ? m->qid : "NOQUEUE";
}

sfsistat
milter_action_reply(SMFICTX *ctx, enum conf_action a, const char *text)
{
	char code[8];
	const char *sp;

	if (a == ACTION_ACCEPT)
		return SMFIS_ACCEPT;
	/* text is "x.y.z words": the enhanced code first. */
	sp = strchr(text, ' ');
	if (sp != NULL && (size_t)(sp - text) < sizeof(code)) {
		memcpy(code, text, (size_t)(sp - text));
		code[sp - text] = '\0';
		smfi_setreply(ctx, a == ACTION_REJECT ? "550" : "451", code, (char *)sp + 1);
	} else
		smfi_setreply(ctx, a == ACTION_REJECT ? "550" : "451", NULL, (char *)text);
	return a == ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* A CRLF-folded field value as libmilter wants it: LF folds. */
char *
milter_value(const char *field, int leadspc)
{
	const char *v = strchr(field, ':');
	struct buf b;

	v = v ? v + 1 : field;
	if (!leadspc && *v == ' ')
		v++;
	buf_init(&b, LIMIT_OUT_HEADER);
	for (; *v; v++)
		if (*v != '\r' && buf_putc(&b, *v) < 0)
			break;
	return buf_steal(&b);
}

