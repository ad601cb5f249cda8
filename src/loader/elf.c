// SPDX-License-Identifier: MIT
/*
 * ELF checks for exec, in the order and with the errors of Linux's
 * load_elf_binary() (fs/binfmt_elf.c) up to the point of no return.
 */
#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* load_elf_phdrs(): the whole table must fit in one page (ELF_MIN_ALIGN). */
#define PHDRS_MAX_BYTES 4096

/* Read exactly @len bytes at @off: -EIO on a short read, as Linux's elf_read(). */
static int read_exact(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static bool header_ok(const Elf64_Ehdr *eh)
{
	return memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	       (eh->e_type == ET_EXEC || eh->e_type == ET_DYN) && eh->e_machine == EM_X86_64;
}

/* load_elf_phdrs(): NULL (the caller's errno) for a bad size or a short read. */
static bool phdrs_ok(int fd, const Elf64_Ehdr *eh, Elf64_Phdr *ph)
{
	size_t size = (size_t)eh->e_phnum * sizeof(*ph);

	if (eh->e_phentsize != sizeof(*ph) || size == 0 || size > PHDRS_MAX_BYTES)
		return false;
	return read_exact(fd, ph, size, (off_t)eh->e_phoff) == 0;
}

/* Only the first PT_INTERP counts, as in Linux. */
static int read_interp(int fd, const Elf64_Phdr *ph, char *out)
{
	int err;

	if (ph->p_filesz > PATH_MAX || ph->p_filesz < 2)
		return -ENOEXEC;
	err = read_exact(fd, out, ph->p_filesz, (off_t)ph->p_offset);
	if (err)
		return err;
	if (out[ph->p_filesz - 1] != '\0')
		return -ENOEXEC;
	return 0;
}

int kbox_elf_inspect(int fd, struct kbox_elf_info *info)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[PHDRS_MAX_BYTES / sizeof(Elf64_Phdr)];
	ssize_t n;

	/* Linux sees the file's first bytes zero-padded (bprm->buf). */
	memset(&eh, 0, sizeof(eh));
	n = pread(fd, &eh, sizeof(eh), 0);
	if (n < 0)
		return -errno;
	if (!header_ok(&eh) || !phdrs_ok(fd, &eh, ph))
		return -ENOEXEC;
	info->is_dyn = eh.e_type == ET_DYN;
	info->has_interp = false;
	info->interp[0] = '\0';
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			info->has_interp = true;
			return read_interp(fd, &ph[i], info->interp);
		}
	}
	return 0;
}

int kbox_elf_check_interp(int fd)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[PHDRS_MAX_BYTES / sizeof(Elf64_Phdr)];
	int err = read_exact(fd, &eh, sizeof(eh), 0);

	if (err)
		return err;
	if (!header_ok(&eh) || !phdrs_ok(fd, &eh, ph))
		return -ELIBBAD;
	return 0;
}
