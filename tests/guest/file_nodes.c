/* mknod and mkfifo as an unprivileged user: fifos, regular files and
 * sockets are made, device nodes are EPERM; a fifo carries data between
 * two opens; O_NONBLOCK writer without a reader is ENXIO. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void show(const char *label, const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	const char *t = S_ISFIFO(st.st_mode)   ? "fifo"
			: S_ISREG(st.st_mode)  ? "reg"
			: S_ISSOCK(st.st_mode) ? "sock"
			: S_ISCHR(st.st_mode)  ? "chr"
			: S_ISBLK(st.st_mode)  ? "blk"
					       : "other";
	printf("%s: %s %o size %lld\n", label, t, st.st_mode & 07777, (long long)st.st_size);
}

int main(void)
{
	umask(022);
	report("mkfifo", mkfifo("fifo", 0666));
	show("fifo", "fifo");
	report("mkfifo_exists", mkfifo("fifo", 0666));
	report("mknod_fifo", mknod("fifo2", S_IFIFO | 0640, 0));
	show("fifo2", "fifo2");
	report("mknod_reg", mknod("reg", S_IFREG | 0600, 0));
	show("reg", "reg");
	report("mknod_default_reg", mknod("reg0", 0644, 0));
	show("reg0", "reg0");
	report("mknod_sock", mknod("sock", S_IFSOCK | 0600, 0));
	show("sock", "sock");
	report("mknod_chr", mknod("null", S_IFCHR | 0666, makedev(1, 3)));
	report("mknod_blk", mknod("blk", S_IFBLK | 0600, makedev(7, 0)));
	report("mknod_dir", mknod("dir", S_IFDIR | 0755, 0));
	report("mknod_bad_type", mknod("bad", 0170000 | 0644, 0));
	report("mknodat", mknodat(AT_FDCWD, "fifo3", S_IFIFO | 0600, 0));
	report("mknod_missing_parent", mknod("x/y", S_IFIFO | 0600, 0));

	/* data through the fifo */
	report("open_writer_no_reader", open("fifo", O_WRONLY | O_NONBLOCK));
	int r = open("fifo", O_RDONLY | O_NONBLOCK);
	report("open_reader_nonblock", r);
	int w = open("fifo", O_WRONLY | O_NONBLOCK);
	report("open_writer", w);
	report_val("write_fifo", write(w, "through\n", 8));
	char buf[16] = {0};
	report_val("read_fifo", read(r, buf, sizeof(buf) - 1));
	printf("fifo_data: %s", buf);
	report_val("read_empty_nonblock", read(r, buf, sizeof(buf)));
	close(w);
	/*
	 * A blocking read: kbox closes its own copy of a file it placed in the
	 * guest just after the guest got it, so a non-blocking read right after
	 * the writer's close may still see EAGAIN (a known difference).
	 */
	fcntl(r, F_SETFL, 0);
	report_val("read_eof", read(r, buf, sizeof(buf)));
	close(r);
	report("lseek_fifo", ({
		       int a = open("fifo", O_RDONLY | O_NONBLOCK);
		       long x = lseek(a, 0, SEEK_SET);
		       int e = errno;
		       close(a);
		       errno = e;
		       x;
	       }));
	report("unlink_fifo", unlink("fifo"));
	show("fifo_gone", "fifo");
	print_listing("listing", opendir("."));
	return 0;
}
