/* SPDX-License-Identifier: MIT */
/*
 * int kbox_loader_exec_first(int stub_fd, char *const argv[], char *const envp[])
 *
 * execveat(stub_fd, "", argv, envp, AT_EMPTY_PATH) from one known syscall
 * instruction: kbox's forked child has no stub mapped yet, so the filter
 * also notifies exec from here (kbox_loader_first_exec_ip()).
 */
	.text
	.globl	kbox_loader_exec_first
	.type	kbox_loader_exec_first, @function
kbox_loader_exec_first:
	mov	%rdx, %r10		/* envp */
	mov	%rsi, %rdx		/* argv */
	lea	.Lempty(%rip), %rsi	/* "" */
	mov	$0x1000, %r8d		/* AT_EMPTY_PATH */
	mov	$322, %eax		/* execveat */
	syscall
	.globl	kbox_loader_first_exec_site
	.hidden	kbox_loader_first_exec_site
kbox_loader_first_exec_site:
	ret
	.size	kbox_loader_exec_first, . - kbox_loader_exec_first

	.section .rodata
.Lempty:
	.byte	0

	.section .note.GNU-stack, "", @progbits
