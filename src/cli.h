/* SPDX-License-Identifier: MIT */
/* Command line: options, help, exit statuses. */
#ifndef KBOX_CLI_H
#define KBOX_CLI_H

#include <stdbool.h>
#include <sys/types.h>

/* Exit statuses, as env(1) and chroot(1) use them. */
enum {
	KBOX_EXIT_FAILURE = 125,    /* kbox's own failure: bad option, missing root, kernel */
	KBOX_EXIT_CANNOT_RUN = 126, /* program found but not executable */
	KBOX_EXIT_NOT_FOUND = 127,  /* program not found */
};

#define KBOX_BINDS_MAX 32

struct kbox_bind {
	const char *host;
	const char *guest;
	bool readonly;
};

enum kbox_tier_choice {
	KBOX_TIER_AUTO,
	KBOX_TIER_SECCOMP,
	KBOX_TIER_TRAP,
	KBOX_TIER_REWRITE,
};

struct kbox_cli {
	const char *root;
	bool system_root; /* -S */
	bool read_only;	  /* --read-only: an image root opened read-only */
	const char *work_dir;
	struct kbox_bind binds[KBOX_BINDS_MAX];
	int nbinds;
	bool root_id;
	bool change_id;
	uid_t uid;
	gid_t gid;
	enum kbox_tier_choice tier;
	bool trace;
	const char *trace_file;
	bool stats;
	int verbose;
	char **argv; /* guest program and arguments */
};

/*
 * Parse argv. Returns 0 to run, 1 when --help/--version was printed, or
 * -1 after printing what was wrong (exit KBOX_EXIT_FAILURE).
 */
int kbox_cli_parse(int argc, char **argv, struct kbox_cli *cli);
const char *kbox_tier_name(enum kbox_tier_choice t);

/* `kbox image create --from ROOTDIR IMAGE [--size SIZE] [--root-owned]` */
struct kbox_image_cli {
	const char *from;
	const char *image;
	unsigned long long size; /* bytes; 0: content plus headroom */
	bool root_owned;
	int verbose;
};

/*
 * Parse the arguments after "image" (argv[0] is "image"). Same returns as
 * kbox_cli_parse().
 */
int kbox_cli_parse_image(int argc, char **argv, struct kbox_image_cli *ic);

#endif
