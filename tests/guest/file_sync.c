/* fsync, fdatasync, sync, syncfs and sync_file_range on files, directories
 * and read-only fds, their errors on pipes and bad fds; data written and
 * synced reads back through another fd. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	char buf[32] = {0};
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	write(fd, "synced data\n", 12);
	report("fsync", fsync(fd));
	report("fdatasync", fdatasync(fd));
	report("sync_file_range", sync_file_range(fd, 0, 12, SYNC_FILE_RANGE_WRITE));
	report("sync_file_range_wait",
	       sync_file_range(fd, 0, 0,
			       SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				       SYNC_FILE_RANGE_WAIT_AFTER));
	report("sync_file_range_bad_flags", sync_file_range(fd, 0, 0, 0x100));
	report("sync_file_range_negative", sync_file_range(fd, -1, 0, SYNC_FILE_RANGE_WRITE));
	report("syncfs", syncfs(fd));
	sync();
	printf("sync: done\n");
	int r = open("f", O_RDONLY);
	report("fsync_rdonly", fsync(r));
	report("fdatasync_rdonly", fdatasync(r));
	report_val("read_back", read(r, buf, sizeof(buf) - 1));
	printf("content: %s", buf);
	close(r);
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	report("fsync_dir", fsync(dfd));
	report("fdatasync_dir", fdatasync(dfd));
	report("syncfs_dir", syncfs(dfd));
	close(dfd);
	int p[2];
	pipe(p);
	report("fsync_pipe", fsync(p[0]));
	report("fdatasync_pipe", fdatasync(p[1]));
	report("sync_file_range_pipe", sync_file_range(p[0], 0, 0, SYNC_FILE_RANGE_WRITE));
	report("syncfs_pipe", syncfs(p[0]));
	report("fsync_ebadf", fsync(1000));
	report("syncfs_ebadf", syncfs(1000));
	int o = open("f", O_PATH);
	report("fsync_o_path", fsync(o));
	close(o);
	/* unlinked but open */
	unlink("f");
	report("fsync_unlinked", fsync(fd));
	close(fd);
	return 0;
}
