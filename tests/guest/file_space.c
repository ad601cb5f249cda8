/* fallocate (allocate, KEEP_SIZE, PUNCH_HOLE), ftruncate growing and
 * shrinking, and what SEEK_DATA/SEEK_HOLE and st_blocks then say. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

static long long blocks(int fd)
{
	struct stat st;
	fstat(fd, &st);
	return (long long)st.st_blocks;
}

static long long size(int fd)
{
	struct stat st;
	fstat(fd, &st);
	return (long long)st.st_size;
}

int main(void)
{
	char buf[4096];
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");

	report("fallocate", fallocate(fd, 0, 0, 65536));
	printf("size_after_fallocate: %lld blocks_ge_128: %d\n", size(fd), blocks(fd) >= 128);
	memset(buf, 0x5a, sizeof(buf));
	report_val("pwrite_8k", pwrite(fd, buf, sizeof(buf), 8192));
	report_val("seek_data_8k", lseek(fd, 8192, SEEK_DATA));
	report_val("seek_hole_end", lseek(fd, 65536, SEEK_HOLE));

	long long b0 = blocks(fd);
	report("fallocate_keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 65536, 65536));
	printf("size_kept: %lld blocks_grew: %d\n", size(fd), blocks(fd) > b0);

	report("ftruncate_grow", ftruncate(fd, 1 << 20));
	printf("size_grown: %lld\n", size(fd));
	report_val("pwrite_end", pwrite(fd, buf, sizeof(buf), (1 << 20) - 4096));
	report_val("seek_hole_after_prealloc", lseek(fd, 131072, SEEK_HOLE));
	report_val("seek_data_last", lseek(fd, 200000, SEEK_DATA));

	b0 = blocks(fd);
	report("punch_hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 4096));
	printf("size_after_punch: %lld blocks_shrank: %d\n", size(fd), blocks(fd) < b0);
	memset(buf, 1, sizeof(buf));
	pread(fd, buf, 4096, 8192);
	int zero = 1;
	for (int i = 0; i < 4096; i++)
		zero &= buf[i] == 0;
	printf("punched_reads_zero: %d\n", zero);
	report("punch_no_keep_size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	report("fallocate_bad_len", fallocate(fd, 0, 0, 0));
	report("fallocate_negative", fallocate(fd, 0, -1, 4096));

	report("ftruncate_shrink", ftruncate(fd, 5000));
	printf("size_shrunk: %lld\n", size(fd));
	report_val("seek_data_past_eof", lseek(fd, 6000, SEEK_DATA));
	report_val("seek_hole_past_eof", lseek(fd, 6000, SEEK_HOLE));
	report_val("seek_hole_in_tail", lseek(fd, 4999, SEEK_HOLE));
	report("ftruncate_negative", ftruncate(fd, -1));
	close(fd);

	fd = open("f", O_RDONLY);
	report("fallocate_rdonly", fallocate(fd, 0, 0, 4096));
	report("ftruncate_rdonly", ftruncate(fd, 0));
	close(fd);
	mkdir("d", 0755);
	fd = open("d", O_RDONLY | O_DIRECTORY);
	report("fallocate_dir", fallocate(fd, 0, 0, 4096));
	report("ftruncate_dir", ftruncate(fd, 0));
	close(fd);
	report("truncate_path", truncate("f", 10));
	struct stat st;
	stat("f", &st);
	printf("size_truncate_path: %lld\n", (long long)st.st_size);
	report("truncate_dir", truncate("d", 0));
	return 0;
}
