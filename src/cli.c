// SPDX-License-Identifier: MIT
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KBOX_VERSION "0.1.0"

enum {
	OPT_CHANGE_ID = 256,
	OPT_SYSCALL_MODE,
	OPT_TRACE,
	OPT_STATS,
	OPT_READ_ONLY,
	OPT_VERSION,
};

static const char usage[] =
	"Usage: kbox [OPTIONS] -r ROOT -- PROGRAM [ARG...]\n"
	"Run PROGRAM inside ROOT, rootless: every path the program uses is resolved\n"
	"in ROOT, never on the host.\n"
	"\n"
	"  -r, --root ROOT           the guest root: a directory or an ext2/3/4 image\n"
	"                            file (opened read-write; one kbox at a time)\n"
	"      --read-only           open an image root read-only (writes: EROFS)\n"
	"  -S, --system-root ROOT    like -r, plus /proc, /sys, /dev, a private /tmp\n"
	"                            (removed at exit) and --root-id\n"
	"  -w, --work-dir DIR        the guest's starting directory (default /)\n"
	"  -b, --bind HOST:GUEST[:ro]  show host directory HOST at GUEST (repeatable)\n"
	"  -0, --root-id             the guest sees uid and gid 0\n"
	"      --change-id UID:GID   the guest sees this uid and gid\n"
	"      --syscall-mode MODE   auto|seccomp|trap|rewrite (default auto)\n"
	"      --trace[=FILE]        print every syscall kbox answers (to FILE)\n"
	"      --stats               at exit, print counts and latency per syscall\n"
	"  -v, --verbose             say more about what kbox does\n"
	"  -h, --help                show this help\n"
	"      --version             show the version\n"
	"\n"
	"Exit status: the program's own (128+N if killed by signal N); 125 when kbox\n"
	"itself fails; 126 when PROGRAM cannot be run; 127 when it is not found.\n"
	"\n"
	"       kbox image create --from ROOTDIR IMAGE [--size SIZE] [--root-owned]\n"
	"Make a new ext4 image holding a copy of ROOTDIR, rootless ('kbox image --help').\n";

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "kbox: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'kbox --help' for the options.\n");
	return -1;
}

/* HOST:GUEST[:ro|:rw], split in place: the strings live in argv for the whole run. */
static int parse_bind(char *spec, struct kbox_cli *cli)
{
	char *guest = strchr(spec, ':'), *mode = guest ? strchr(guest + 1, ':') : NULL;
	struct kbox_bind *b;

	if (cli->nbinds >= KBOX_BINDS_MAX)
		return bad("too many --bind options (at most 32): '%s'", spec);
	if (!guest || guest == spec || !guest[1] || guest[1] == ':')
		return bad("--bind wants HOST:GUEST[:ro], got '%s'", spec);
	if (mode && strcmp(mode + 1, "ro") && strcmp(mode + 1, "rw"))
		return bad("--bind mode must be 'ro' or 'rw': '%s'", spec);
	if (guest[1] != '/')
		return bad("--bind GUEST must be an absolute path: '%s'", spec);
	*guest++ = '\0';
	if (mode)
		*mode++ = '\0';
	b = &cli->binds[cli->nbinds++];
	b->host = spec;
	b->guest = guest;
	b->readonly = mode && !strcmp(mode, "ro");
	return 0;
}

static int parse_ids(const char *spec, struct kbox_cli *cli)
{
	char *end;
	unsigned long uid, gid;

	uid = strtoul(spec, &end, 10);
	if (end == spec || *end != ':')
		return bad("--change-id wants UID:GID in numbers, got '%s'", spec);
	gid = strtoul(end + 1, &end, 10);
	if (*end || uid >= 0xffffffffu || gid >= 0xffffffffu)
		return bad("--change-id wants UID:GID in numbers, got '%s'", spec);
	cli->change_id = true;
	cli->uid = (uid_t)uid;
	cli->gid = (gid_t)gid;
	return 0;
}

static int parse_mode(const char *mode, struct kbox_cli *cli)
{
	static const char *const names[] = {"auto", "seccomp", "trap", "rewrite"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(mode, names[i])) {
			cli->tier = (enum kbox_tier_choice)i;
			return 0;
		}
	return bad("--syscall-mode must be auto, seccomp, trap or rewrite, not '%s'", mode);
}

const char *kbox_tier_name(enum kbox_tier_choice t)
{
	static const char *const names[] = {"auto", "seccomp", "trap", "rewrite"};

	return names[t];
}

static const struct option long_opts[] = {
	{"root", required_argument, NULL, 'r'},
	{"system-root", required_argument, NULL, 'S'},
	{"work-dir", required_argument, NULL, 'w'},
	{"bind", required_argument, NULL, 'b'},
	{"root-id", no_argument, NULL, '0'},
	{"change-id", required_argument, NULL, OPT_CHANGE_ID},
	{"syscall-mode", required_argument, NULL, OPT_SYSCALL_MODE},
	{"trace", optional_argument, NULL, OPT_TRACE},
	{"stats", no_argument, NULL, OPT_STATS},
	{"read-only", no_argument, NULL, OPT_READ_ONLY},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static int parse_one(int c, struct kbox_cli *cli, int *done)
{
	switch (c) {
	case 'S':
		cli->system_root = true;
		cli->root_id = true;
		/* fall through */
	case 'r':
		cli->root = optarg;
		return 0;
	case 'w':
		cli->work_dir = optarg;
		return 0;
	case 'b':
		return parse_bind(optarg, cli);
	case '0':
		cli->root_id = true;
		return 0;
	case OPT_CHANGE_ID:
		return parse_ids(optarg, cli);
	case OPT_SYSCALL_MODE:
		return parse_mode(optarg, cli);
	case OPT_TRACE:
		cli->trace = true;
		cli->trace_file = optarg;
		return 0;
	case OPT_STATS:
		cli->stats = true;
		return 0;
	case OPT_READ_ONLY:
		cli->read_only = true;
		return 0;
	case 'v':
		cli->verbose++;
		return 0;
	case 'h':
		fputs(usage, stdout);
		*done = 1;
		return 0;
	case OPT_VERSION:
		printf("kbox %s\n", KBOX_VERSION);
		*done = 1;
		return 0;
	default:
		fprintf(stderr, "Try 'kbox --help' for the options.\n");
		return -1;
	}
}

int kbox_cli_parse(int argc, char **argv, struct kbox_cli *cli)
{
	int c, done = 0;

	memset(cli, 0, sizeof(*cli));
	cli->work_dir = "/";
	opterr = 1;
	/* '+': stop at the first non-option, so the guest's own options stay its own. */
	while ((c = getopt_long(argc, argv, "+r:S:w:b:0vh", long_opts, NULL)) != -1) {
		if (parse_one(c, cli, &done))
			return -1;
		if (done)
			return 1;
	}
	if (!cli->root)
		return bad("%s", "no guest root given: use -r ROOT (a directory)");
	if (cli->root_id && cli->change_id)
		return bad("%s", "-0 and --change-id choose the guest identity twice: use one");
	if (optind >= argc)
		return bad("%s", "no program given: kbox -r ROOT -- PROGRAM [ARG...]");
	cli->argv = argv + optind;
	return 0;
}

static const char image_usage[] =
	"Usage: kbox image create --from ROOTDIR IMAGE [--size SIZE] [--root-owned]\n"
	"Make a new ext4 image file IMAGE holding a copy of directory ROOTDIR:\n"
	"contents, modes, owners, times, hard links, symlinks, device nodes, fifos\n"
	"and xattrs. Needs no root (mke2fs formats it, kbox fills it).\n"
	"\n"
	"      --from ROOTDIR   the tree to copy\n"
	"      --size SIZE      image size, with K, M, G or T (default: the content\n"
	"                       plus a quarter, inode tables and the journal)\n"
	"      --root-owned     files the user owns become root's in the image; a\n"
	"                       kbox directory root's recorded owners, modes and\n"
	"                       devices (made under -0) are used as the guest saw them\n"
	"  -v, --verbose        say what was copied\n"
	"  -h, --help           show this help\n"
	"\n"
	"IMAGE must not exist. Exit status: 0, or 125 when the image cannot be made\n"
	"(then no IMAGE is left behind).\n";

/* "512M" -> bytes; 0 on a bad size. */
static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	int shift = 0;

	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return 0;
	}
	if (end == s || (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B")))
		return 0;
	if (n > (~0ull >> shift))
		return 0;
	return n << shift;
}

enum {
	OPT_FROM = 300,
	OPT_SIZE,
	OPT_ROOT_OWNED
};

static const struct option image_opts[] = {
	{"from", required_argument, NULL, OPT_FROM},
	{"size", required_argument, NULL, OPT_SIZE},
	{"root-owned", no_argument, NULL, OPT_ROOT_OWNED},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int image_bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "kbox image: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'kbox image --help' for the options.\n");
	return -1;
}

static int parse_image_opt(int c, struct kbox_image_cli *ic)
{
	switch (c) {
	case OPT_FROM:
		ic->from = optarg;
		return 0;
	case OPT_SIZE:
		ic->size = parse_size(optarg);
		if (ic->size < 4ull << 20)
			return image_bad(
				"--size wants a size of 4M or more (e.g. 512M, 2G), got '%s'",
				optarg);
		return 0;
	case OPT_ROOT_OWNED:
		ic->root_owned = true;
		return 0;
	case 'v':
		ic->verbose++;
		return 0;
	default:
		fprintf(stderr, "Try 'kbox image --help' for the options.\n");
		return -1;
	}
}

int kbox_cli_parse_image(int argc, char **argv, struct kbox_image_cli *ic)
{
	int c;

	memset(ic, 0, sizeof(*ic));
	optind = 1;
	opterr = 1;
	if (argc < 2 || strcmp(argv[1], "create")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(image_usage, stdout);
			return 1;
		}
		return image_bad("%s", argc < 2 ? "what to do? The subcommand is 'create'"
						: "the only subcommand is 'create'");
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "vh", image_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(image_usage, stdout);
			return 1;
		}
		if (parse_image_opt(c, ic))
			return -1;
	}
	if (!ic->from)
		return image_bad("%s", "no tree to copy: give --from ROOTDIR");
	if (optind != argc - 1)
		return image_bad("%s", optind >= argc ? "no IMAGE file named"
						      : "one IMAGE file only, after the options");
	ic->image = argv[optind];
	return 0;
}
