/* io_uring runs the operations it is given in the kernel, where seccomp
 * never sees them (an IORING_OP_OPENAT would open a host path). kbox's
 * filter refuses all three io_uring calls with EPERM, so a guest cannot
 * even set up a ring; natively the ring works. The kbox run is compared
 * with expected/escape_io_uring.kbox.out. */
#include "common.h"
#include <stdint.h>
#include <sys/syscall.h>

#define NR_io_uring_setup     425
#define NR_io_uring_enter     426
#define NR_io_uring_register  427
#define IORING_REGISTER_PROBE 8

int main(void)
{
	/* struct io_uring_params is 120 bytes; all zero asks for defaults. */
	uint64_t params[15] = {0}, probe[64] = {0};
	long ring = report("io_uring_setup", syscall(NR_io_uring_setup, 4, params));
	int fd = ring >= 0 ? (int)ring : -1;

	/* On a ring (natively) these work; kbox refuses them before looking at the fd. */
	report("io_uring_register_probe",
	       syscall(NR_io_uring_register, fd, IORING_REGISTER_PROBE, probe, 8));
	report("io_uring_enter", syscall(NR_io_uring_enter, fd, 0, 0, 0, NULL, 0));
	/* With no ring at all: EBADF natively, EPERM from kbox's filter. */
	printf("refused_without_ring: %s\n",
	       syscall(NR_io_uring_enter, -1, 0, 0, 0, NULL, 0) < 0 ? errname(errno) : "ok");
	if (fd >= 0)
		close(fd);
	return 0;
}
