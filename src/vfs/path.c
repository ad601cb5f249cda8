// SPDX-License-Identifier: MIT
/*
 * Lexical path helpers. Pure string work: no syscalls, unit tested.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int kbox_path_join(const char *base, const char *rel, char *out, size_t size)
{
	size_t blen, rlen;
	bool slash;

	if (rel[0] == '/' || !base || !base[0])
		base = "";
	blen = strlen(base);
	rlen = strlen(rel);
	slash = blen && rlen && base[blen - 1] != '/';
	if (blen + slash + rlen >= size)
		return -ENAMETOOLONG;
	memcpy(out, base, blen);
	if (slash)
		out[blen] = '/';
	memcpy(out + blen + slash, rel, rlen + 1);
	return (int)(blen + slash + rlen);
}

/* Drop the last component of out[min..len); returns the new length. */
static size_t pop_component(const char *out, size_t len, size_t min)
{
	while (len > min && out[len - 1] != '/')
		len--;
	if (len > min)
		len--;
	return len < min ? min : len;
}

/*
 * "/" stays "/" under "..", a relative path keeps its leading ".."s (min
 * moves past them so later ".."s cannot pop them), and an empty relative
 * result is ".".
 */
int kbox_path_normalize(const char *path, char *out, size_t size)
{
	bool abs = path[0] == '/';
	size_t len = 0, min;
	const char *p = path;

	if (size < 2)
		return -ENAMETOOLONG;
	if (abs)
		out[len++] = '/';
	min = len;
	while (*p) {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.' && (len > min || abs)) {
			len = pop_component(out, len, min);
			p = e;
			continue;
		}
		if (len + (len > 0 && out[len - 1] != '/') + n >= size)
			return -ENAMETOOLONG;
		if (len > 0 && out[len - 1] != '/')
			out[len++] = '/';
		memcpy(out + len, p, n);
		len += n;
		if (n == 2 && p[0] == '.' && p[1] == '.')
			min = len;
		p = e;
	}
	if (len == 0)
		out[len++] = '.';
	out[len] = '\0';
	return (int)len;
}

bool kbox_path_has_prefix(const char *path, size_t len, const char *prefix, size_t plen)
{
	if (plen == 1 && prefix[0] == '/')
		return len >= 1 && path[0] == '/';
	if (plen > len || memcmp(path, prefix, plen) != 0)
		return false;
	return plen == len || path[plen] == '/';
}
