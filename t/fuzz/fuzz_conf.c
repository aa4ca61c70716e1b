/*
 * fuzz_conf.c - the configuration loader (conf_load: libconfig's parser,
 * then every setting's checks, tables and limits).
 *
 * Input: the text of a dkimgate.conf, written to a scratch file because
 * libconfig reads files. Key files are not read (load_keys = 0): their
 * paths come from the input, and reading whatever file a mutation names
 * says nothing about the loader. Inputs with @include are skipped for the
 * same reason (libconfig would open the named file). Properties: no memory
 * error or leak; a refused file comes with at least one problem, each on
 * its own line as "file:line: reason"; an accepted one has an authserv-id
 * and a socket.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static char *path;

static void
scratch_file(void)
{
	const char *tmp = getenv("TMPDIR");
	struct buf b;
	int fd;

	buf_init(&b, 4096);
	if (buf_printf(&b, "%s/fuzz_conf.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		fuzz_fail("TMPDIR too long");
	path = buf_steal(&b);
	if ((fd = mkstemp(path)) < 0)
		fuzz_fail("cannot create a scratch file in %s", tmp ? tmp : "/tmp");
	close(fd);
}

static void
remove_scratch(void)
{
	unlink(path);
	free(path);
}

static void
check_errors(const char *e)
{
	size_t plen = strlen(path);

	if (*e == '\0')
		fuzz_fail("file refused without a reason");
	while (*e != '\0') {
		const char *nl = strchr(e, '\n'), *p;

		if (nl == NULL)
			fuzz_fail("problem not ending in a newline: %s", e);
		if (strncmp(e, path, plen) != 0 || e[plen] != ':')
			fuzz_fail("problem not naming the file: %.*s", (int)(nl - e), e);
		for (p = e + plen + 1; p < nl && *p >= '0' && *p <= '9'; p++)
			;
		if (p == e + plen + 1 || p + 1 >= nl || p[0] != ':' || p[1] != ' ')
			fuzz_fail("problem without a line number: %.*s", (int)(nl - e), e);
		e = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf errors;
	struct conf *c;
	FILE *fp;

	if (path == NULL) {
		scratch_file();
		atexit(remove_scratch);
	}
	if (size >= 8 && memmem(data, size, "@include", 8) != NULL)
		return 0;
	if ((fp = fopen(path, "wb")) == NULL)
		fuzz_fail("cannot write %s", path);
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		fuzz_fail("cannot write %s", path);
	if (fclose(fp) != 0)
		fuzz_fail("cannot write %s", path);
	buf_init(&errors, 1024 * 1024);
	c = conf_load(path, CONF_KEYS_NONE, &errors);
	if (c == NULL)
		check_errors(buf_str(&errors));
	else {
		if (c->authserv_id == NULL || c->socket == NULL)
			fuzz_fail("accepted configuration without authserv-id or socket");
		conf_unref(c);
	}
	buf_release(&errors);
	return 0;
}
