/* SPDX-License-Identifier: MIT */
/*
 * Raw x86-64 syscalls for the stub, which has no libc. Every wrapper
 * returns the kernel's value: a result, or -errno in [-4095, -1].
 */
#ifndef KBOX_STUB_SYS_H
#define KBOX_STUB_SYS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every stub symbol is local to the stub: with -fpie this makes the
 * compiler address them %rip-relative instead of through a GOT the static
 * link would have to turn into 32-bit absolute addresses, which cannot
 * reach KBOX_STUB_BASE.
 */
#pragma GCC visibility push(hidden)

#define STUB_NR_WRITE	    1
#define STUB_NR_CLOSE	    3
#define STUB_NR_MMAP	    9
#define STUB_NR_MPROTECT    10
#define STUB_NR_MUNMAP	    11
#define STUB_NR_PREAD	    17
#define STUB_NR_PERSONALITY 135
#define STUB_NR_EXIT_GROUP  231
#define STUB_NR_GETRANDOM   318
#define STUB_NR_TGKILL	    234
#define STUB_NR_GETPID	    39
#define STUB_NR_GETTID	    186
#define STUB_NR_PRCTL	    157

static inline long stub_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define stub_syscall(nr, a, b, c) stub_syscall6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline long stub_is_err(long r)
{
	return (unsigned long)r > -4096UL;
}

/* Defined in start.S: the syscalls kbox recognises by their address. */
long kbox_stub_execveat(long fd, const char *path, long argv, long envp, long flags);
long kbox_stub_rt_sigaction(long sig, const void *act, void *oact, long setsize);
void kbox_stub_restorer(void);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t stub_strlen(const char *s);

#endif
