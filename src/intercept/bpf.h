/* SPDX-License-Identifier: MIT */
/*
 * The seccomp filter every guest task runs under, built from syscalls.def.
 */
#ifndef KBOX_INTERCEPT_BPF_H
#define KBOX_INTERCEPT_BPF_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kbox_filter_config {
	bool notify_ids;	/* IDENT calls are notified (faked identity) */
	bool notify_signals;	/* SIGNAL calls are notified (no Landlock signal scope) */
	bool notify_dirents;	/* DIRENT calls are notified (a procfs is mounted) */
	bool notify_image;	/* IMAGE and FDSTAT calls are notified (an image is mounted) */
	uint64_t exec_sites[2]; /* IPs (after the syscall insn) whose exec is notified */
	int nexec_sites;
	uint64_t stub_sigaction_site; /* the stub's own rt_sigaction(SIGSYS): allowed; 0 if none */
};

#define KBOX_BPF_MAX 4096

/*
 * Build the filter into @prog (KBOX_BPF_MAX slots). Returns the number of
 * instructions or -E2BIG.
 */
int kbox_bpf_build(const struct kbox_filter_config *cfg, struct sock_filter *prog);

#endif
