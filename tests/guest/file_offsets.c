/* File offsets: two opens of one file have their own offsets; dup and
 * fork share one; pread/pwrite leave it alone; O_APPEND writes go to the
 * end whatever the offset; lseek past the end then write leaves a hole. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

int main(void)
{
	char buf[32];
	put_file("f", "0123456789abcdefghij");
	int a = open("f", O_RDONLY), b = open("f", O_RDONLY);
	read(a, buf, 5);
	report_val("independent_a", lseek(a, 0, SEEK_CUR));
	report_val("independent_b", lseek(b, 0, SEEK_CUR));
	int c = dup(a);
	read(c, buf, 3);
	report_val("dup_shares", lseek(a, 0, SEEK_CUR));
	pid_t pid = fork();
	if (pid == 0) {
		read(a, buf, 4);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	report_val("fork_shares", lseek(a, 0, SEEK_CUR));
	memset(buf, 0, sizeof(buf));
	read(a, buf, 3);
	printf("next_read: %s\n", buf);
	report_val("pread_keeps", (pread(a, buf, 4, 0), lseek(a, 0, SEEK_CUR)));
	report_val("seek_end", lseek(b, -2, SEEK_END));
	report_val("seek_cur_neg", lseek(b, -100, SEEK_CUR));
	report_val("seek_bad_whence", lseek(b, 0, 42));
	close(a);
	close(b);
	close(c);

	int w = open("f", O_WRONLY | O_APPEND);
	lseek(w, 0, SEEK_SET);
	write(w, "APP", 3);
	report_val("append_offset", lseek(w, 0, SEEK_CUR));
	report_val("pwrite_append", pwrite(w, "P", 1, 0));
	close(w);
	memset(buf, 0, sizeof(buf));
	int r = open("f", O_RDONLY);
	read(r, buf, sizeof(buf) - 1);
	printf("content: %s\n", buf);
	close(r);

	w = open("f", O_WRONLY);
	report_val("seek_past_end", lseek(w, 100, SEEK_SET));
	report_val("write_past_end", write(w, "X", 1));
	struct stat st;
	fstat(w, &st);
	printf("size: %lld\n", (long long)st.st_size);
	close(w);
	r = open("f", O_RDONLY);
	memset(buf, 1, sizeof(buf));
	report_val("read_hole", pread(r, buf, 4, 50));
	printf("hole_zero: %d\n", buf[0] == 0 && buf[3] == 0);
	close(r);
	return 0;
}
