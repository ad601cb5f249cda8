// SPDX-License-Identifier: MIT
/* Lexical path helpers: join and normalize. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "vfs/vfs.h"

static void check_join(const char *base, const char *rel, const char *want)
{
	char out[PATH_MAX];
	int n = kbox_path_join(base, rel, out, sizeof(out));

	cr_assert_eq(n, (int)strlen(want), "join(%s, %s) = %d", base, rel, n);
	cr_assert_str_eq(out, want);
}

static void check_norm(const char *in, const char *want)
{
	char out[PATH_MAX];
	int n = kbox_path_normalize(in, out, sizeof(out));

	cr_assert_eq(n, (int)strlen(want), "normalize(%s) = %d (%s)", in, n, out);
	cr_assert_str_eq(out, want, "normalize(%s)", in);
}

Test(path_join, relative_appends_to_base)
{
	check_join("/usr", "lib", "/usr/lib");
	check_join("/", "etc", "/etc");
	check_join("/usr/", "lib/x", "/usr/lib/x");
	check_join("/a", "../b", "/a/../b");
}

Test(path_join, absolute_ignores_base)
{
	check_join("/usr", "/etc/passwd", "/etc/passwd");
}

Test(path_join, empty_rel_is_base)
{
	check_join("/usr", "", "/usr");
}

Test(path_join, too_long)
{
	char out[8];

	cr_assert_eq(kbox_path_join("/usr", "lib64", out, sizeof(out)), -ENAMETOOLONG);
	cr_assert_eq(kbox_path_join("/usr", "li", out, sizeof(out)), 7);
}

Test(path_normalize, folds_slashes_and_dots)
{
	check_norm("/", "/");
	check_norm("//", "/");
	check_norm("/usr//lib/./", "/usr/lib");
	check_norm("/./.", "/");
	check_norm("a//b/", "a/b");
	check_norm(".", ".");
	check_norm("", ".");
}

Test(path_normalize, dotdot_stops_at_root)
{
	check_norm("/..", "/");
	check_norm("/../../etc", "/etc");
	check_norm("/usr/lib/../../..", "/");
	check_norm("/usr/lib/..", "/usr");
	check_norm("/a/b/../c/./../d", "/a/d");
}

Test(path_normalize, relative_keeps_leading_dotdot)
{
	check_norm("..", "..");
	check_norm("../a/..", "..");
	check_norm("a/../..", "..");
	check_norm("../../x", "../../x");
	check_norm("a/b/../..", ".");
}

Test(path_normalize, too_long)
{
	char out[4];

	cr_assert_eq(kbox_path_normalize("/abcd", out, sizeof(out)), -ENAMETOOLONG);
	cr_assert_eq(kbox_path_normalize("/ab", out, sizeof(out)), 3);
}
