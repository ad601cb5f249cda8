// SPDX-License-Identifier: MIT
/*
 * Guest program for test_elf_stub.c, built static, static-pie and dynamic:
 * prints what the stub gave it (argv, auxv, where its headers are) and can
 * exec another program, which the stub must catch as SIGSYS.
 *   test_elf_guest [args...]            print the report
 *   test_elf_guest exec PATH [ARGS...]  execv(PATH, [PATH, ARGS...]); prints errno on failure
 */
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static int phdr_found;

static int check_phdr(struct dl_phdr_info *info, size_t size, void *data)
{
	if (info->dlpi_phdr == (const void *)getauxval(AT_PHDR))
		phdr_found = 1;
	return 0;
}

int main(int argc, char **argv)
{
	sigset_t mask;
	int bss_zero = 1;
	static char bss[8192];

	if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
		execv(argv[2], argv + 2);
		printf("exec-errno=%d\n", errno);
		return 0;
	}
	for (size_t i = 0; i < sizeof(bss); i++)
		bss_zero &= bss[i] == 0;
	dl_iterate_phdr(check_phdr, NULL);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	printf("execfn=%s\n", (const char *)getauxval(AT_EXECFN));
	printf("phdr=%d bss=%d sigsys-blocked=%d random=%d\n", phdr_found, bss_zero,
	       sigismember(&mask, SIGSYS), getauxval(AT_RANDOM) != 0);
	printf("env=%s\n", getenv("KBOX_TEST") ? getenv("KBOX_TEST") : "(none)");
	return 7;
}
