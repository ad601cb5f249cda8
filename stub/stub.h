/* SPDX-License-Identifier: MIT */
/* Internal interfaces of kbox-stub: loader stages and the SIGSYS handler. */
#ifndef KBOX_STUB_STUB_H
#define KBOX_STUB_STUB_H

#include <stdint.h>

#include "loader/stub_proto.h"

#define STUB_PAGE 4096UL

/* Where one ELF file ended up. */
struct stub_image {
	uint64_t bias;	/* load address minus link address; 0 for ET_EXEC */
	uint64_t entry; /* e_entry + bias */
	uint64_t phdr;	/* address of the program headers in memory, 0 if not mapped */
	uint64_t phnum;
	uint64_t phent;
};

/*
 * Map ELF file @fd. @pie_base: an ET_DYN main program that has an
 * interpreter goes near ELF_ET_DYN_BASE as Linux places it; otherwise ET_DYN
 * goes wherever mmap puts it. Returns 0 or -errno.
 */
long stub_load_elf(int fd, int pie_base, struct stub_image *img);

/*
 * Build the guest's initial stack below @ksp (the kernel's stack pointer at
 * _start) and return the guest's stack pointer.
 */
uint64_t stub_build_stack(uint64_t *ksp, const struct kbox_stub_plan *plan,
			  const struct stub_image *prog, const struct stub_image *interp);

/* Install the SIGSYS handler that turns guest execs into kbox requests. */
long stub_install_sigsys(void);

/* A request to kbox (see stub_proto.h). */
long stub_request(long op, long a, long b, long c, long d, long e);

#endif
