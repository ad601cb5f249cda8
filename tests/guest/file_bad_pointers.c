/* Bad pointers in path calls fail with EFAULT, as on Linux, also after the
 * process has made many calls (when kbox reads its paths another way):
 * NULL, an unmapped page, a PROT_NONE page, a path that runs on into a
 * PROT_NONE page, and a result buffer in read-only memory. */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static void warm_up(void)
{
	struct stat st;
	int ok = 0;

	for (int i = 0; i < 40; i++)
		ok += stat("/etc/passwd", &st) == 0;
	printf("warm-up stats: %d\n", ok);
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	char *two, *gone, *none;
	char *volatile null = NULL; /* hidden from the compiler's nonnull checks */

	warm_up();
	two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED || gone == MAP_FAILED || none == MAP_FAILED)
		return 1;
	munmap(gone, page);

	report("stat NULL", stat(null, &st));
	report("stat unmapped", stat(gone, &st));
	report("stat PROT_NONE", stat(none, &st));
	report("open PROT_NONE", open(none, O_RDONLY));
	report("access PROT_NONE", access(none, F_OK));
	report("readlink PROT_NONE", readlink(none, (char *)two, 64));

	/* "/etc" in the last bytes of a page, no NUL, the next page PROT_NONE. */
	memcpy(two + page - 4, "/etc", 4);
	mprotect(two + page, page, PROT_NONE);
	report("stat into PROT_NONE", stat(two + page - 4, &st));
	mprotect(two + page, page, PROT_READ | PROT_WRITE);
	two[page] = '\0';
	report("stat ending at the page end", stat(two + page - 4, &st));

	/* The result buffer: read-only memory is not written. */
	mprotect(two, page, PROT_READ);
	/* Raw: musl's stat() copies the result itself and would fault first. */
	report("stat into read-only buffer",
	       syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", (struct stat *)two, 0));
	report("stat still works", stat("/etc/passwd", &st));
	return 0;
}
