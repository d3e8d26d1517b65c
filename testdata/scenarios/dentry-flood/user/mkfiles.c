/* mkfiles: flood the dentry cache, fast (a shell loop is far too slow
 * under TCG).
 *   mkfiles DIR NFILES [NEGDIR NNEG]
 * creates NFILES empty files DIR/dNNN/fNNNN (1000 per directory), then
 * looks up NNEG names that do not exist in NEGDIR, each lookup leaving a
 * negative dentry behind (on filesystems that cache them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long nfiles, nneg = 0, i;
	char path[4096];
	struct stat st;
	double t0 = now();

	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: mkfiles DIR NFILES [NEGDIR NNEG]\n");
		return 2;
	}
	nfiles = atol(argv[2]);
	if (argc == 5)
		nneg = atol(argv[4]);
	mkdir(argv[1], 0755);
	for (i = 0; i < nfiles; i++) {
		if (i % 1000 == 0) {
			snprintf(path, sizeof(path), "%s/d%03ld", argv[1], i / 1000);
			if (mkdir(path, 0755) && errno != EEXIST) {
				perror(path);
				return 1;
			}
		}
		/* short names stay inline in struct dentry (no external name) */
		snprintf(path, sizeof(path), "%s/d%03ld/f%04ld", argv[1], i / 1000, i % 1000);
		if (mknod(path, S_IFREG | 0644, 0) && errno != EEXIST) {
			perror(path);
			return 1;
		}
	}
	printf("mkfiles: %ld files in %.1f s\n", nfiles, now() - t0);
	t0 = now();
	for (i = 0; i < nneg; i++) {
		snprintf(path, sizeof(path), "%s/n%07ld", argv[3], i);
		if (stat(path, &st) == 0) {
			fprintf(stderr, "mkfiles: %s exists\n", path);
			return 1;
		}
	}
	printf("mkfiles: %ld negative lookups in %.1f s\n", nneg, now() - t0);
	return 0;
}
