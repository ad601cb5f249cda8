/* Helpers shared by the guest test programs.
 *
 * Every program prints deterministic lines ("label: result") to stdout, so
 * that a native run and a run under kbox can be diffed: no pids, no times,
 * no inode numbers (only compared with each other), errno by name. Output
 * is unbuffered so that lines from forked processes appear in the order the
 * program synchronised them. The programs are built with musl and glibc,
 * static and dynamic, so only portable libc calls are used; newer syscalls
 * go through syscall(2).
 */
#ifndef KBOX_GUEST_COMMON_H
#define KBOX_GUEST_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Unbuffered stdout: lines from parents and children come out in the order
 * the program synchronised them, whatever stdout is. */
__attribute__((constructor)) static void unbuffer_stdout(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

/* clang-format off */
static inline const char *errname(int e)
{
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF)
	E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
	E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG)
	E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS)
	E(ENOTEMPTY) E(ELOOP) E(ENOTSOCK) E(EADDRINUSE) E(ECONNREFUSED) E(EOPNOTSUPP)
	E(EAFNOSUPPORT) E(ENOTCONN) E(ENODATA)
#undef E
	default:
		return "E?";
	}
}
/* clang-format on */

/* Print "label: OK" for rc >= 0, "label: ERRNAME" otherwise; returns rc. */
static inline long report(const char *label, long rc)
{
	if (rc >= 0)
		printf("%s: ok\n", label);
	else
		printf("%s: %s\n", label, errname(errno));
	return rc;
}

/* Print "label: value" or "label: ERRNAME". */
static inline long report_val(const char *label, long rc)
{
	if (rc >= 0)
		printf("%s: %ld\n", label, rc);
	else
		printf("%s: %s\n", label, errname(errno));
	return rc;
}

static inline void die(const char *what)
{
	printf("FATAL %s: %s\n", what, errname(errno));
	exit(99);
}

/* Write a whole string to a new file (mode 0644), or die. */
static inline void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die(path);
}

/* Read up to cap-1 bytes of a file into buf; returns length or -1. */
static inline long get_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
	return (long)n;
}

static inline int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print "label: name name ..." for the entries of d (sorted, without "."
 * and ".."), then close it. */
static inline void print_listing(const char *label, DIR *d)
{
	char *names[512];
	size_t n = 0;
	struct dirent *e;

	if (!d) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	while ((e = readdir(d)) && n < 512) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	printf("%s:", label);
	for (size_t i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

#endif
