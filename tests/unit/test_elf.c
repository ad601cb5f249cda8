// SPDX-License-Identifier: MIT
/* ELF and #! checks against the errors Linux's execve gives. */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loader/loader.h"

static int script(const char *text, struct kbox_script *sc)
{
	return kbox_script_parse(text, strlen(text), sc);
}

Test(script, interpreter_alone)
{
	struct kbox_script sc;

	cr_assert_eq(script("#!/bin/sh\necho hi\n", &sc), 0);
	cr_expect_str_eq(sc.interp, "/bin/sh");
	cr_expect_not(sc.has_arg);
}

Test(script, blanks_around_interpreter_are_skipped)
{
	struct kbox_script sc;

	cr_assert_eq(script("#! \t/bin/sh \t\n", &sc), 0);
	cr_expect_str_eq(sc.interp, "/bin/sh");
	cr_expect_not(sc.has_arg);
}

Test(script, one_argument_is_the_rest_of_the_line_trimmed)
{
	struct kbox_script sc;

	cr_assert_eq(script("#!/usr/bin/env  python3 -u  -O \t\nx", &sc), 0);
	cr_expect_str_eq(sc.interp, "/usr/bin/env");
	cr_assert(sc.has_arg);
	cr_expect_str_eq(sc.arg, "python3 -u  -O");
}

Test(script, no_interpreter_is_enoexec)
{
	struct kbox_script sc;

	cr_expect_eq(script("#!\n", &sc), -ENOEXEC);
	cr_expect_eq(script("#!   \t \n", &sc), -ENOEXEC);
	cr_expect_eq(script("#", &sc), -ENOEXEC);
	cr_expect_eq(script("#/bin/sh\n", &sc), -ENOEXEC);
}

Test(script, file_without_newline)
{
	struct kbox_script sc;

	cr_assert_eq(script("#!/bin/sh", &sc), 0);
	cr_expect_str_eq(sc.interp, "/bin/sh");
}

/* Linux refuses an interpreter path that may have been cut at 256 bytes. */
Test(script, long_line_without_newline)
{
	char buf[400];
	struct kbox_script sc;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "#!/", 3);
	cr_expect_eq(kbox_script_parse(buf, sizeof(buf), &sc), -ENOEXEC);
	/* A blank within the first 256 bytes ends the name: the argument is cut, which is fine. */
	buf[100] = ' ';
	cr_assert_eq(kbox_script_parse(buf, sizeof(buf), &sc), 0);
	cr_expect_eq(strlen(sc.interp), 98); /* buf[2..99] */
	cr_expect(sc.has_arg);
	/* Linux ends the buffer in place at its last byte: buf[101..254]. */
	cr_expect_eq(strlen(sc.arg), 154);
}

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("elf", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	return fd;
}

/* A minimal ELF64 x86-64 PIE with PT_INTERP "/lib/ld.so" right after its headers. */
struct tiny_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	char interp[16];
};

static struct tiny_elf tiny(void)
{
	struct tiny_elf t = {0};

	memcpy(t.eh.e_ident, ELFMAG, SELFMAG);
	t.eh.e_ident[EI_CLASS] = ELFCLASS64;
	t.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	t.eh.e_ident[EI_VERSION] = EV_CURRENT;
	t.eh.e_type = ET_DYN;
	t.eh.e_machine = EM_X86_64;
	t.eh.e_version = EV_CURRENT;
	t.eh.e_phoff = sizeof(Elf64_Ehdr);
	t.eh.e_ehsize = sizeof(Elf64_Ehdr);
	t.eh.e_phentsize = sizeof(Elf64_Phdr);
	t.eh.e_phnum = 2;
	t.ph[0].p_type = PT_INTERP;
	t.ph[0].p_offset = offsetof(struct tiny_elf, interp);
	t.ph[0].p_filesz = sizeof("/lib/ld.so");
	t.ph[1].p_type = PT_LOAD;
	t.ph[1].p_filesz = t.ph[1].p_memsz = sizeof(t);
	t.ph[1].p_align = 4096;
	strcpy(t.interp, "/lib/ld.so");
	return t;
}

static int inspect(const struct tiny_elf *t, size_t len, struct kbox_elf_info *info)
{
	int fd = memfd_with(t, len);
	int err = kbox_elf_inspect(fd, info);

	close(fd);
	return err;
}

Test(elf, finds_interpreter)
{
	struct tiny_elf t = tiny();
	struct kbox_elf_info info;

	cr_assert_eq(inspect(&t, sizeof(t), &info), 0);
	cr_expect(info.is_dyn);
	cr_expect(info.has_interp);
	cr_expect_str_eq(info.interp, "/lib/ld.so");
}

Test(elf, static_program_has_no_interpreter)
{
	struct tiny_elf t = tiny();
	struct kbox_elf_info info;

	t.eh.e_type = ET_EXEC;
	t.ph[0].p_type = PT_NOTE;
	cr_assert_eq(inspect(&t, sizeof(t), &info), 0);
	cr_expect_not(info.is_dyn);
	cr_expect_not(info.has_interp);
}

Test(elf, wrong_format_is_enoexec)
{
	struct kbox_elf_info info;
	struct tiny_elf t;

	t = tiny();
	t.eh.e_ident[EI_MAG1] = 'X';
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
	t = tiny();
	t.eh.e_ident[EI_CLASS] = ELFCLASS32;
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
	t = tiny();
	t.eh.e_machine = EM_AARCH64;
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
	t = tiny();
	t.eh.e_type = ET_REL;
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
	t = tiny();
	t.eh.e_phentsize = 32;
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
	t = tiny();
	t.eh.e_phnum = 0;
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
	t = tiny();
	t.eh.e_phnum = 4096 / sizeof(Elf64_Phdr) + 1;
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
}

Test(elf, truncated_files)
{
	struct tiny_elf t = tiny();
	struct kbox_elf_info info;

	cr_expect_eq(inspect(&t, 0, &info), -ENOEXEC);
	cr_expect_eq(inspect(&t, 40, &info), -ENOEXEC);
	/* Program headers cut short: load_elf_phdrs() fails, -ENOEXEC. */
	cr_expect_eq(inspect(&t, sizeof(Elf64_Ehdr) + 60, &info), -ENOEXEC);
	/* PT_INTERP past the end: elf_read() gives -EIO. */
	cr_expect_eq(inspect(&t, offsetof(struct tiny_elf, interp) + 4, &info), -EIO);
}

Test(elf, bad_interp_segment_is_enoexec)
{
	struct tiny_elf t = tiny();
	struct kbox_elf_info info;

	t.interp[10] = 'x'; /* no NUL at its end */
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
	t = tiny();
	t.ph[0].p_filesz = 1;
	cr_expect_eq(inspect(&t, sizeof(t), &info), -ENOEXEC);
}

Test(elf, interpreter_checks_are_elibbad)
{
	struct tiny_elf t = tiny();
	int fd;

	fd = memfd_with(&t, sizeof(t));
	cr_expect_eq(kbox_elf_check_interp(fd), 0);
	close(fd);
	fd = memfd_with("#!/bin/sh\n"
			"0123456789012345678901234567890123456789012345678901234567890123",
			74);
	cr_expect_eq(kbox_elf_check_interp(fd), -ELIBBAD);
	close(fd);
	fd = memfd_with(&t, 20);
	cr_expect_eq(kbox_elf_check_interp(fd), -EIO);
	close(fd);
	t.eh.e_machine = EM_386;
	fd = memfd_with(&t, sizeof(t));
	cr_expect_eq(kbox_elf_check_interp(fd), -ELIBBAD);
	close(fd);
}
