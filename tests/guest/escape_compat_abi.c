/* The other syscall ABIs of an x86-64 process: int $0x80 (i386 numbers,
 * 32-bit pointers) and x32 (the number with bit 30 set). Natively both can
 * reach the kernel (int $0x80 works where IA32 emulation is built in; x32
 * only with CONFIG_X86_X32_ABI). kbox's filter refuses every call that is
 * not x86-64 with ENOSYS (src/intercept/bpf.c), so none reaches the host:
 * not getuid, not open of an inside path, not open of the host file
 * argv[1]. The kbox run is compared with expected/escape_compat_abi.kbox.out. */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define X32_BIT	    0x40000000L
#define I386_READ   3
#define I386_OPEN   5
#define I386_CLOSE  6
#define I386_GETUID 24
#define I386_GETPID 20

static long int80(long nr, long a, long b, long c)
{
	long r;

	/* The i386 entry takes ebx, ecx, edx and may clobber r8-r11. */
	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return r;
}

/* Print "label: ok" or "label: ERRNAME" for a raw return value. */
static void show(const char *label, long r)
{
	if (r < 0 && r > -4096)
		printf("%s: %s\n", label, errname((int)-r));
	else
		printf("%s: ok\n", label);
}

/* int $0x80 open + read: the path must lie below 4 GiB. */
static void int80_open(const char *label, char *low, const char *path)
{
	char rlabel[64];
	long fd;

	strcpy(low, path);
	fd = int80(I386_OPEN, (long)low, O_RDONLY, 0);
	show(label, fd);
	if (fd < 0)
		return;
	snprintf(rlabel, sizeof(rlabel), "%s_read", label);
	show(rlabel, int80(I386_READ, fd, (long)low + 2048, 64));
	int80(I386_CLOSE, fd, 0, 0);
}

static long x32(long nr, long a, long b)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr | X32_BIT), "D"(a), "S"(b)
			 : "memory", "rcx", "r11");
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s HOST_FILE\n", argv[0]);
		return 2;
	}
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED)
		die("mmap MAP_32BIT");
	put_file("inside-file", "inside\n");

	show("int80_getuid", int80(I386_GETUID, 0, 0, 0));
	show("int80_getpid", int80(I386_GETPID, 0, 0, 0));
	int80_open("int80_open_inside", low, "inside-file");
	int80_open("int80_open_host_file", low, argv[1]);

	strcpy(low, "inside-file");
	show("x32_getuid", x32(SYS_getuid, 0, 0));
	show("x32_open_inside", x32(SYS_open, (long)low, O_RDONLY));
	strcpy(low, argv[1]);
	show("x32_open_host_file", x32(SYS_open, (long)low, O_RDONLY));

	/* Numbers no ABI has: ENOSYS natively too. */
	show("syscall_minus_one", syscall(-1L) < 0 ? -errno : 0);
	show("syscall_past_table", syscall(4000L) < 0 ? -errno : 0);
	/* The x86-64 ABI still works afterwards. */
	report("x86_64_open_inside_after", open("inside-file", O_RDONLY));
	return 0;
}
