/*
 * logclean.c - keep a log line one line (see log.h). Apart from log.c so
 * that code replacing the logger (the milter fuzz harness) can use it.
 */
#include "config.h"

#include "log.h"

void
log_clean(char *line)
{
	for (; *line != '\0'; line++)
		if ((unsigned char)*line < 0x20 || *line == 0x7f)
			*line = '?';
}
