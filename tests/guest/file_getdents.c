/* getdents64 while the directory changes: entries unlinked and created
 * between two reads of one open directory never make a name come twice
 * nor hide a name that stayed; a d_off seeked back to resumes at the same
 * next entry, also after the directory grew and after that entry's
 * predecessor was unlinked. */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

struct d64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

#define N	 200
#define MAX_SEEN 1024

static char *seen[MAX_SEEN];
static int64_t seen_off[MAX_SEEN];
static int nseen;

/* Read one getdents64 batch of at most cap bytes; returns entries added. */
static int batch(int fd, size_t cap)
{
	char buf[8192];
	long n = syscall(SYS_getdents64, fd, buf, cap);
	if (n < 0)
		die("getdents64");
	int added = 0;
	for (long pos = 0; pos < n;) {
		struct d64 *d = (struct d64 *)(buf + pos);
		if (nseen < MAX_SEEN) {
			seen_off[nseen] = d->off;
			seen[nseen++] = strdup(d->name);
		}
		added++;
		pos += d->reclen;
	}
	return added;
}

static int count(const char *name)
{
	int c = 0;
	for (int i = 0; i < nseen; i++)
		c += strcmp(seen[i], name) == 0;
	return c;
}

static void reset(void)
{
	for (int i = 0; i < nseen; i++)
		free(seen[i]);
	nseen = 0;
}

int main(void)
{
	char name[64];

	report("mkdir", mkdir("d", 0755));
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "d/f%03d", i);
		put_file(name, "x");
	}

	/* 1: unlink and create between batches */
	int fd = open("d", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die("open d");
	batch(fd, 600);
	int first = nseen;
	printf("first_batch_partial: %d\n", first > 2 && first < N);
	int unlinked[N] = {0}, nunlinked = 0;
	for (int i = 0; i < N; i += 3) {
		snprintf(name, sizeof(name), "d/f%03d", i);
		if (unlink(name) == 0) {
			unlinked[i] = 1;
			nunlinked++;
		}
	}
	printf("unlinked: %d\n", nunlinked);
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "d/new%03d-with-a-longer-name-to-fill-blocks", i);
		put_file(name, "y");
	}
	while (batch(fd, 600) > 0)
		;
	/* ("." and ".." are not checked here: ext4 may return them again when
	 * the directory turns into an indexed one between two reads) */
	int dups = 0, missing = 0;
	for (int i = 0; i < nseen; i++)
		if (count(seen[i]) > 1)
			dups++;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		if (!unlinked[i] && count(name) != 1)
			missing++;
	}
	printf("dups: %d missing_stayed: %d\n", dups, missing);
	close(fd);
	reset();

	/* 2: offsets: read all, seek back to the d_off of entry k, expect k+1 */
	fd = open("d", O_RDONLY | O_DIRECTORY);
	while (batch(fd, 8192) > 0)
		;
	int total = nseen;
	printf("entries: %d\n", total);
	int k = total / 2;
	char *want = strdup(seen[k + 1]);
	int64_t off = seen_off[k];
	char *pred = strdup(seen[k]);
	reset();
	report_val("lseek_d_off", lseek(fd, off, SEEK_SET) == off ? 0 : -1);
	batch(fd, 300);
	printf("resume_same_next: %d\n", nseen > 0 && strcmp(seen[0], want) == 0);
	reset();

	/* after growth */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "d/grow%03d-and-another-rather-long-name-here", i);
		put_file(name, "z");
	}
	lseek(fd, off, SEEK_SET);
	batch(fd, 300);
	int after_growth = nseen > 0 && strcmp(seen[0], want) == 0;
	reset();
	/* after the entry at off (the predecessor) is unlinked */
	snprintf(name, sizeof(name), "d/%s", pred);
	int pred_gone = strcmp(pred, ".") && strcmp(pred, "..") && unlink(name) == 0;
	lseek(fd, off, SEEK_SET);
	batch(fd, 300);
	int after_unlink = nseen > 0 && strcmp(seen[0], want) == 0;
	reset();
	printf("resume_after_growth: %d resume_after_unlink: %d (pred_unlinked %d)\n", after_growth,
	       after_unlink, pred_gone);

	/* offsets do not change between two full reads */
	lseek(fd, 0, SEEK_SET);
	while (batch(fd, 8192) > 0)
		;
	int n1 = nseen;
	char **names1 = malloc(sizeof(char *) * n1);
	int64_t *offs1 = malloc(sizeof(int64_t) * n1);
	for (int i = 0; i < n1; i++) {
		names1[i] = strdup(seen[i]);
		offs1[i] = seen_off[i];
	}
	reset();
	lseek(fd, 0, SEEK_SET);
	while (batch(fd, 8192) > 0)
		;
	int same = nseen == n1;
	for (int i = 0; same && i < n1; i++)
		same = strcmp(names1[i], seen[i]) == 0 && offs1[i] == seen_off[i];
	printf("reread_same: %d\n", same);
	reset();

	/* rewinddir-like: lseek 0 gives "." or ".." among the first */
	lseek(fd, 0, SEEK_SET);
	batch(fd, 8192);
	printf("rewind_has_dot: %d\n", count(".") == 1);
	reset();
	report("getdents_small_buf", syscall(SYS_getdents64, fd, name, 8));
	close(fd);
	report("getdents_file", ({
		       int f = open("d/f001", O_RDONLY);
		       char b[512];
		       long r = syscall(SYS_getdents64, f, b, sizeof(b));
		       int e = errno;
		       close(f);
		       errno = e;
		       r;
	       }));
	return 0;
}
