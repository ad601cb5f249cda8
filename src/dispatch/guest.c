// SPDX-License-Identifier: MIT
/* Guest memory helpers for handlers, over the tier's ops. */
#include <errno.h>
#include <string.h>

#include "dispatch.h"

int kbox_read_guest(struct kbox_request *req, uint64_t gaddr, void *buf, size_t len)
{
	ssize_t n;

	if (!gaddr)
		return -EFAULT;
	n = req->tier->read_mem(req, buf, gaddr, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

int kbox_write_guest(struct kbox_request *req, uint64_t gaddr, const void *buf, size_t len)
{
	ssize_t n;

	if (!gaddr)
		return -EFAULT;
	n = req->tier->write_mem(req, gaddr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

/*
 * Read a NUL-terminated string one page at a time: a string may end just
 * before an unmapped page, and reading across it would fail the whole read.
 * Returns the length, -EFAULT, or -ENAMETOOLONG when no NUL fits in @size.
 * The tier's read_str may serve the first page unless @likely_empty: it
 * never takes an empty string, so trying it for one would cost a read more.
 */
static int read_string(struct kbox_request *req, uint64_t gaddr, char *buf, size_t size,
		       bool likely_empty)
{
	size_t done = 0;

	if (!gaddr)
		return -EFAULT;
	while (done < size) {
		size_t chunk = 4096 - ((gaddr + done) & 4095);
		ssize_t n;
		char *nul;

		if (chunk > size - done)
			chunk = size - done;
		n = done == 0 && req->tier->read_str && !likely_empty
			    ? req->tier->read_str(req, buf, gaddr, chunk)
			    : req->tier->read_mem(req, buf + done, gaddr + done, chunk);
		if (n <= 0)
			return n < 0 ? (int)n : -EFAULT;
		nul = memchr(buf + done, '\0', (size_t)n);
		if (nul)
			return (int)(nul - buf);
		done += (size_t)n;
		if ((size_t)n < chunk)
			return -EFAULT;
	}
	return -ENAMETOOLONG;
}

int kbox_read_guest_string(struct kbox_request *req, uint64_t gaddr, char *buf, size_t size)
{
	return read_string(req, gaddr, buf, size, false);
}

int kbox_read_guest_path_maybe_empty(struct kbox_request *req, uint64_t gaddr, char *buf,
				     size_t size)
{
	return read_string(req, gaddr, buf, size, true);
}
