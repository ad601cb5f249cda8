/* read/write/lseek/pread/pwrite, dup sharing offsets, fcntl flags,
 * SEEK_DATA/SEEK_HOLE on a sparse file, readv/writev. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

int main(void)
{
	char buf[64] = {0};
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);

	report_val("write", write(fd, "0123456789", 10));
	report_val("lseek_set", lseek(fd, 2, SEEK_SET));
	report_val("read", read(fd, buf, 3));
	printf("data: %s\n", buf);
	int fd2 = dup(fd);
	report_val("dup_shares_offset", lseek(fd2, 0, SEEK_CUR));
	lseek(fd2, 8, SEEK_SET);
	report_val("offset_seen_by_original", lseek(fd, 0, SEEK_CUR));
	int fd3 = open("f", O_RDONLY);
	report_val("separate_open_offset", lseek(fd3, 0, SEEK_CUR));
	report_val("pwrite", pwrite(fd, "AB", 2, 4));
	report_val("offset_after_pwrite", lseek(fd, 0, SEEK_CUR));
	memset(buf, 0, sizeof(buf));
	report_val("pread", pread(fd3, buf, 10, 0));
	printf("data: %s\n", buf);
	report_val("lseek_end", lseek(fd, 0, SEEK_END));
	report("lseek_negative", lseek(fd, -100, SEEK_SET));
	report_val("read_at_eof", read(fd, buf, 5));

	struct iovec iov[2] = {{"ab", 2}, {"cd\n", 3}};
	report_val("writev", writev(fd, iov, 2));
	char a[3] = {0}, b[4] = {0};
	struct iovec riov[2] = {{a, 2}, {b, 3}};
	report_val("preadv", preadv(fd, riov, 2, 10));
	printf("iov: %s %s", a, b);

	int fl = fcntl(fd, F_GETFL);
	printf("accmode_rdwr: %d\n", (fl & O_ACCMODE) == O_RDWR);
	report("setfl_append", fcntl(fd, F_SETFL, fl | O_APPEND));
	printf("append_set: %d\n", (fcntl(fd2, F_GETFL) & O_APPEND) != 0);
	printf("fd_flags_dup: %d\n", fcntl(fd2, F_GETFD));
	int fd4 = fcntl(fd, F_DUPFD_CLOEXEC, 50);
	printf("dupfd_min: %d cloexec: %d\n", fd4 >= 50, fcntl(fd4, F_GETFD) & FD_CLOEXEC);
	report("dup2_same", dup2(fd, fd));
	report_val("dup2_to_40", dup2(fd, 40));
	report("close_twice", (close(40), close(40)));
	report("read_bad_fd", read(77, buf, 1));

	/* A sparse file. */
	int s = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
	pwrite(s, "x", 1, 1 << 20);
	struct stat st;
	fstat(s, &st);
	printf("sparse_size: %lld\n", (long long)st.st_size);
	report_val("seek_data", lseek(s, 0, SEEK_DATA));
	report_val("seek_hole_after_data", lseek(s, 1 << 20, SEEK_HOLE) > (1 << 20));
	close(s);
	close(fd);
	close(fd2);
	close(fd3);
	close(fd4);
	return 0;
}
