// SPDX-License-Identifier: MIT
/*
 * #! lines, parsed as Linux's load_script() (fs/binfmt_script.c, 5.1+)
 * does, pointer for pointer, on a zero-padded copy of the first
 * KBOX_BINPRM_BUF_SIZE bytes.
 */
#include "loader.h"

#include <errno.h>
#include <string.h>

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

static const char *next_non_spacetab(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

static const char *next_terminator(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

/*
 * Where the line ends. Without a newline in the buffer the interpreter
 * path must be followed by a blank or NUL, else it may be truncated.
 */
static const char *line_end(const char *buf, const char *buf_end)
{
	const char *end = memchr(buf, '\n', KBOX_BINPRM_BUF_SIZE);

	if (end)
		return end;
	end = next_non_spacetab(buf + 2, buf_end);
	if (!end || !next_terminator(end, buf_end))
		return NULL;
	return buf_end;
}

int kbox_script_parse(const char *file, size_t len, struct kbox_script *out)
{
	char buf[KBOX_BINPRM_BUF_SIZE + 1] = {0};
	const char *buf_end = buf + KBOX_BINPRM_BUF_SIZE - 1;
	const char *i_name, *i_sep, *i_arg = NULL, *i_end;

	memcpy(buf, file, len < KBOX_BINPRM_BUF_SIZE ? len : KBOX_BINPRM_BUF_SIZE);
	if (buf[0] != '#' || buf[1] != '!')
		return -ENOEXEC;
	i_end = line_end(buf, buf_end);
	if (!i_end)
		return -ENOEXEC;
	while (spacetab(i_end[-1]))
		i_end--;
	i_name = next_non_spacetab(buf + 2, i_end);
	if (!i_name || i_name == i_end)
		return -ENOEXEC;
	i_sep = next_terminator(i_name, i_end);
	if (i_sep && *i_sep != '\0')
		i_arg = next_non_spacetab(i_sep, i_end);
	/* Linux ends the strings in place: the name at i_sep or i_end, the argument at i_end. */
	*(char *)i_end = '\0';
	if (i_arg)
		*(char *)i_sep = '\0';
	strcpy(out->interp, i_name);
	out->has_arg = i_arg != NULL;
	if (i_arg)
		strcpy(out->arg, i_arg);
	else
		out->arg[0] = '\0';
	return 0;
}
