/* rename and renameat2 (RENAME_NOREPLACE, RENAME_EXCHANGE) on files and
 * directories, with the errors Linux gives. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE	 (1 << 1)
#endif

static long renameat2_(const char *a, const char *b, unsigned flags)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

static void show(const char *label, const char *path)
{
	char buf[64];
	if (get_file(path, buf, sizeof(buf)) < 0)
		printf("%s: %s\n", label, errname(errno));
	else
		printf("%s: %s", label, buf);
}

int main(void)
{
	put_file("a", "A\n");
	put_file("b", "B\n");
	report("rename_over_existing", rename("a", "b"));
	report("old_name_gone", access("a", F_OK));
	show("b", "b");

	put_file("a", "A2\n");
	report("noreplace_existing", renameat2_("a", "b", RENAME_NOREPLACE));
	report("noreplace_new", renameat2_("a", "c", RENAME_NOREPLACE));
	show("c", "c");
	report("exchange", renameat2_("b", "c", RENAME_EXCHANGE));
	show("b_after_exchange", "b");
	show("c_after_exchange", "c");
	report("exchange_missing", renameat2_("b", "nope", RENAME_EXCHANGE));
	report("both_flags", renameat2_("b", "c", RENAME_EXCHANGE | RENAME_NOREPLACE));

	mkdir("d1", 0755);
	mkdir("d2", 0755);
	put_file("d2/x", "x\n");
	report("dir_over_nonempty_dir", rename("d1", "d2"));
	report("dir_into_itself", rename("d1", "d1/sub"));
	report("file_over_dir", rename("b", "d1"));
	report("dir_over_file", rename("d1", "b"));
	report("missing_source", rename("nope", "x"));
	report("dir_over_empty_dir", (mkdir("d3", 0755), rename("d1", "d3")));
	report("d1_gone", access("d1", F_OK));
	report("rename_same", rename("b", "b"));
	report("move_into_subdir", rename("c", "d2/c"));
	show("d2/c", "d2/c");
	report("exchange_file_dir", renameat2_("b", "d2", RENAME_EXCHANGE));
	show("d2_is_file_now", "d2");
	print_listing("listing", opendir("."));
	print_listing("b_dir", opendir("b"));
	return 0;
}
