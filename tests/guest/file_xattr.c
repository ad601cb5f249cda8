/* Extended attributes: set/get/list/remove of user.* on files and
 * directories, XATTR_CREATE/XATTR_REPLACE, ERANGE, the l* and f* forms,
 * and what an unprivileged user may not do (trusted.*, user.* on a
 * symlink). Lists are printed sorted. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static void show_list(const char *label, long n, const char *buf)
{
	const char *names[64];
	int k = 0;
	if (n < 0) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	for (long i = 0; i < n && k < 64; i += strlen(buf + i) + 1)
		names[k++] = buf + i;
	qsort(names, k, sizeof(names[0]), cmp_str);
	printf("%s:", label);
	for (int i = 0; i < k; i++)
		printf(" %s", names[i]);
	printf("\n");
}

int main(void)
{
	char buf[512];
	long n;

	put_file("f", "x");
	report("setxattr", setxattr("f", "user.a", "alpha", 5, 0));
	report("setxattr_b", setxattr("f", "user.b", "", 0, 0));
	n = getxattr("f", "user.a", buf, sizeof(buf));
	report_val("getxattr_len", n);
	printf("getxattr: %.*s\n", (int)(n > 0 ? n : 0), buf);
	report_val("getxattr_size_query", getxattr("f", "user.a", NULL, 0));
	report_val("getxattr_empty", getxattr("f", "user.b", buf, sizeof(buf)));
	report("getxattr_erange", getxattr("f", "user.a", buf, 2));
	report("getxattr_missing", getxattr("f", "user.none", buf, sizeof(buf)));
	report("setxattr_create_exists", setxattr("f", "user.a", "x", 1, XATTR_CREATE));
	report("setxattr_replace_missing", setxattr("f", "user.c", "x", 1, XATTR_REPLACE));
	report("setxattr_replace", setxattr("f", "user.a", "beta", 4, XATTR_REPLACE));
	n = getxattr("f", "user.a", buf, sizeof(buf));
	printf("after_replace: %.*s\n", (int)(n > 0 ? n : 0), buf);
	report("setxattr_bad_flags", setxattr("f", "user.a", "x", 1, 0x100));
	report("setxattr_no_namespace", setxattr("f", "plain", "x", 1, 0));
	report("setxattr_trusted", setxattr("f", "trusted.t", "x", 1, 0));
	report("getxattr_trusted", getxattr("f", "trusted.t", buf, sizeof(buf)));
	n = listxattr("f", buf, sizeof(buf));
	show_list("listxattr", n, buf);
	report_val("listxattr_size_query", listxattr("f", NULL, 0));
	report("listxattr_erange", listxattr("f", buf, 3));

	/* big values */
	char big[2000];
	memset(big, 'v', sizeof(big));
	report("setxattr_2000", setxattr("f", "user.big", big, sizeof(big), 0));
	report_val("getxattr_2000", getxattr("f", "user.big", buf, 0));

	/* fd and l* forms */
	int fd = open("f", O_RDONLY);
	report("fsetxattr", fsetxattr(fd, "user.fd", "1", 1, 0));
	report_val("fgetxattr", fgetxattr(fd, "user.fd", buf, sizeof(buf)));
	n = flistxattr(fd, buf, sizeof(buf));
	show_list("flistxattr", n, buf);
	report("fremovexattr", fremovexattr(fd, "user.fd"));
	close(fd);
	symlink("f", "sym");
	report("lsetxattr_symlink", lsetxattr("sym", "user.l", "x", 1, 0));
	report_val("getxattr_through_symlink", getxattr("sym", "user.a", buf, sizeof(buf)));
	n = llistxattr("sym", buf, sizeof(buf));
	show_list("llistxattr_symlink", n, buf);

	/* directories */
	mkdir("d", 0755);
	report("setxattr_dir", setxattr("d", "user.d", "dir", 3, 0));
	n = listxattr("d", buf, sizeof(buf));
	show_list("listxattr_dir", n, buf);

	report("removexattr", removexattr("f", "user.a"));
	report("removexattr_missing", removexattr("f", "user.a"));
	n = listxattr("f", buf, sizeof(buf));
	show_list("listxattr_after_remove", n, buf);
	report("getxattr_missing_file", getxattr("nope", "user.a", buf, sizeof(buf)));

	/* read-only file: the owner still may set user.* ? no: needs write */
	put_file("ro", "x");
	chmod("ro", 0444);
	report("setxattr_readonly_file", setxattr("ro", "user.a", "x", 1, 0));
	return 0;
}
