// SPDX-License-Identifier: MIT
/*
 * The stub image linked into kbox (stub_image.S, generated from the built
 * kbox-stub by embed_stub.py): a sealed memfd of it for exec, and symbol
 * lookups in its ELF symbol table for the addresses the filter keys on.
 */
#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern const unsigned char kbox_stub_image[];
extern const unsigned char kbox_stub_image_end[];

static int stub_fd = -1;
static dev_t stub_dev;
static ino_t stub_ino;

static size_t image_size(void)
{
	return (size_t)(kbox_stub_image_end - kbox_stub_image);
}

/* Section header @i of the image, or NULL if it lies outside. */
static const Elf64_Shdr *section(const Elf64_Ehdr *eh, unsigned i)
{
	size_t off = eh->e_shoff + (size_t)i * sizeof(Elf64_Shdr);

	if (i >= eh->e_shnum || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    off + sizeof(Elf64_Shdr) > image_size())
		return NULL;
	return (const Elf64_Shdr *)(kbox_stub_image + off);
}

static uint64_t find_in_symtab(const Elf64_Ehdr *eh, const Elf64_Shdr *sym, const char *name)
{
	const Elf64_Shdr *str = section(eh, sym->sh_link);
	size_t n = sym->sh_size / sizeof(Elf64_Sym);

	if (!str || sym->sh_offset + sym->sh_size > image_size() ||
	    str->sh_offset + str->sh_size > image_size())
		return 0;
	for (size_t i = 0; i < n; i++) {
		const Elf64_Sym *s = (const Elf64_Sym *)(kbox_stub_image + sym->sh_offset) + i;
		const char *sname = (const char *)kbox_stub_image + str->sh_offset + s->st_name;

		if (s->st_name < str->sh_size &&
		    strncmp(sname, name, str->sh_size - s->st_name) == 0)
			return s->st_value;
	}
	return 0;
}

uint64_t kbox_stub_symbol(const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)kbox_stub_image;

	if (image_size() < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return 0;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = section(eh, i);

		if (sh && sh->sh_type == SHT_SYMTAB)
			return find_in_symtab(eh, sh, name);
	}
	return 0;
}

uint64_t kbox_stub_exec_ip(void)
{
	static uint64_t ip;

	if (!ip)
		ip = kbox_stub_symbol("kbox_stub_exec_ip");
	return ip;
}

uint64_t kbox_stub_sigaction_ip(void)
{
	static uint64_t ip;

	if (!ip)
		ip = kbox_stub_symbol("kbox_stub_sigaction_ip");
	return ip;
}

static int write_image(int fd)
{
	size_t done = 0;

	while (done < image_size()) {
		ssize_t n = write(fd, kbox_stub_image + done, image_size() - done);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

/*
 * A read-only fd of the sealed memfd: exec refuses a file that is open for
 * writing (ETXTBSY), and memfd_create's own fd is read-write.
 */
static int reopen_readonly(int fd)
{
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	return ro < 0 ? -errno : ro;
}

static int create_memfd(void)
{
	/* MFD_EXEC (6.3+) keeps it executable under vm.memfd_noexec=1; older kernels reject it. */
	int fd = memfd_create("kbox-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	int err, ro;

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("kbox-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	err = write_image(fd);
	if (!err &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		err = -errno;
	ro = err ? err : reopen_readonly(fd);
	close(fd);
	return ro;
}

int kbox_stub_memfd(void)
{
	struct stat st;
	int fd;

	if (stub_fd >= 0)
		return stub_fd;
	fd = create_memfd();
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	stub_dev = st.st_dev;
	stub_ino = st.st_ino;
	stub_fd = fd;
	return fd;
}

bool kbox_stub_is_stub_fd(int fd)
{
	struct stat st;

	if (stub_fd < 0 || fstat(fd, &st) < 0)
		return false;
	return st.st_dev == stub_dev && st.st_ino == stub_ino;
}
