/*
 * replay.c - run a fuzz harness over saved inputs, without libFuzzer.
 *
 *	replay_NAME FILE|DIR...
 *
 * Each file (each regular file of a directory, in name order) is given to
 * LLVMFuzzerTestOneInput once. A broken property or a sanitizer finding
 * aborts, so the exit status says whether every input still passes; this is
 * how make check keeps the seed corpus and every reproducer in t/fuzz/regress
 * passing in a build made with the ordinary compiler.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char chunk[8192];
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf_init(&b, 64 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			fprintf(stderr, "replay: %s: too large\n", path);
			fclose(fp);
			buf_release(&b);
			return -1;
		}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		fclose(fp);
		buf_release(&b);
		return -1;
	}
	fclose(fp);
	/* Report the input first, so a crash names it. */
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, b.len);
	LLVMFuzzerTestOneInput((const uint8_t *)(b.data ? b.data : ""), b.len);
	buf_release(&b);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir, size_t *count)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (dp == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (nn == NULL)
				fuzz_fail("out of memory");
			names = nn;
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			fuzz_fail("out of memory");
	}
	closedir(dp);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct buf path;
		struct stat st;

		buf_init(&path, 4096);
		if (buf_printf(&path, "%s/%s", dir, names[i]) < 0)
			fuzz_fail("path too long");
		if (stat(buf_str(&path), &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(buf_str(&path)) < 0)
				rc = -1;
			(*count)++;
		}
		buf_release(&path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) < 0)
				rc = 1;
		} else {
			if (run_file(argv[i]) < 0)
				rc = 1;
			count++;
		}
	}
	printf("%s: %zu inputs replayed\n", argv[0], count);
	return rc;
}
