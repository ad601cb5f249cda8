/* SPDX-License-Identifier: MIT */
/*
 * Entry of kbox-stub and the syscall sites kbox recognises by address.
 *
 * _start runs the loader on a private mmap'd stack, so that the loader may
 * write the guest's new stack just below the kernel's initial stack pointer
 * without overwriting its own frames. Then it drops the private stack,
 * switches to the guest stack and enters the guest with every register
 * zero, as the kernel would after execve (rdx = 0: no rtld_fini).
 */
#define WORK_STACK_SIZE (128 * 1024)

	.text
	.globl	_start
	.type	_start, @function
_start:
	xor	%ebp, %ebp
	mov	%rsp, %rbx		/* argc, argv, envp, auxv as the kernel built them */
	/* mmap(NULL, WORK_STACK_SIZE, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) */
	mov	$9, %eax
	xor	%edi, %edi
	mov	$WORK_STACK_SIZE, %esi
	mov	$3, %edx
	mov	$0x22, %r10d
	mov	$-1, %r8
	xor	%r9d, %r9d
	syscall
	cmp	$-4095, %rax
	jae	.Lno_stack
	mov	%rax, %r12
	lea	WORK_STACK_SIZE(%rax), %rsp
	mov	%rbx, %rdi
	call	kbox_stub_main		/* returns entry in %rax, guest stack pointer in %rdx */
	mov	%rax, %r13
	mov	%rdx, %r14
	/* munmap(work stack): only registers are live from here on */
	mov	$11, %eax
	mov	%r12, %rdi
	mov	$WORK_STACK_SIZE, %esi
	syscall
	mov	%r14, %rsp
	push	%r13			/* consumed by ret below: %rsp ends at the guest's value */
	xor	%eax, %eax
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%ebp, %ebp
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d
	cld
	ret
.Lno_stack:
	mov	$231, %eax		/* exit_group(127) */
	mov	$127, %edi
	syscall
	hlt
	.size	_start, . - _start

/*
 * long kbox_stub_execveat(fd, path, argv, envp, flags)
 * The stub's one exec site: the seccomp filter notifies execve/execveat
 * only when the instruction pointer is kbox_stub_exec_ip, and traps them
 * (SIGSYS) from anywhere else.
 */
	.globl	kbox_stub_execveat
	.type	kbox_stub_execveat, @function
kbox_stub_execveat:
	mov	%rcx, %r10
	mov	$322, %eax
	syscall
	.globl	kbox_stub_exec_ip
kbox_stub_exec_ip:
	ret
	.size	kbox_stub_execveat, . - kbox_stub_execveat

/*
 * long kbox_stub_rt_sigaction(sig, act, oact, sigsetsize)
 * Separate site so kbox can tell the stub installing its SIGSYS handler
 * from the guest doing so (kbox_stub_sigaction_ip).
 */
	.globl	kbox_stub_rt_sigaction
	.type	kbox_stub_rt_sigaction, @function
kbox_stub_rt_sigaction:
	mov	%rcx, %r10
	mov	$13, %eax
	syscall
	.globl	kbox_stub_sigaction_ip
kbox_stub_sigaction_ip:
	ret
	.size	kbox_stub_rt_sigaction, . - kbox_stub_rt_sigaction

/* sa_restorer of the SIGSYS handler: rt_sigreturn() */
	.globl	kbox_stub_restorer
	.type	kbox_stub_restorer, @function
kbox_stub_restorer:
	mov	$15, %eax
	syscall
	hlt
	.size	kbox_stub_restorer, . - kbox_stub_restorer

	.section .note.GNU-stack, "", @progbits
