/* SPDX-License-Identifier: MIT */
/*
 * The one request/result pair every interception tier produces and consumes.
 *
 * A tier catches a guest syscall, fills a struct kbox_request, calls
 * kbox_dispatch(), and turns the struct kbox_result it gets back into the
 * guest-visible answer. Handlers never know which tier caught the call: all
 * they may touch of the guest goes through the tier ops below.
 */
#ifndef KBOX_INTERCEPT_REQUEST_H
#define KBOX_INTERCEPT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kbox_request;
struct kbox_result;
struct kbox_task;

/*
 * What a tier lets a handler do to the calling guest task. Every function
 * returns a count or 0 on success and -errno on failure.
 */
struct kbox_tier_ops {
	const char *name;
	/* Copy guest memory; short count at the first unmapped page. */
	ssize_t (*read_mem)(struct kbox_request *req, void *dst, uint64_t gaddr, size_t len);
	ssize_t (*write_mem)(struct kbox_request *req, uint64_t gaddr, const void *src, size_t len);
	/*
	 * Optional: copy the start of a NUL-terminated string, at most to the
	 * end of its page. Like read_mem, but may take a faster way when what
	 * it read holds a NUL after the first byte.
	 */
	ssize_t (*read_str)(struct kbox_request *req, void *dst, uint64_t gaddr, size_t len);
	/*
	 * Duplicate guest fd @gfd into kbox; returns a kbox-owned fd (O_CLOEXEC)
	 * that the caller closes, or -EBADF.
	 */
	int (*get_guest_fd)(struct kbox_request *req, int gfd);
	/*
	 * True while the request is still pending, i.e. the guest task has not
	 * gone away or been interrupted. Checked after reading guest memory,
	 * because tids are reused.
	 */
	bool (*still_valid)(struct kbox_request *req);
	/*
	 * Answer a request whose handler returned KBOX_RES_DEFERRED, from any
	 * thread. Consumes res->fd for KBOX_RES_FD.
	 */
	int (*respond)(struct kbox_request *req, const struct kbox_result *res);
};

struct kbox_request {
	int nr; /* syscall number (x86-64 numbering) */
	uint64_t args[6];
	uint64_t ip; /* guest instruction pointer after the syscall instruction */
	pid_t tid;   /* host thread id of the caller */
	uint64_t id; /* tier-private request id (the notification id for unotify) */
	struct kbox_task *task;
	const struct kbox_tier_ops *tier;
	void *tier_data;   /* tier-private */
	bool via_stub;	   /* forwarded by the stub (KBOX_STUB_OP_OPEN): any fd can be placed */
	uint64_t start_ns; /* for tracing: when kbox received the call */
	uint64_t end_ns;   /* ... and when its answer was ready, before it was sent */
};

enum kbox_result_kind {
	KBOX_RES_VALUE,	   /* return value (>= 0) or -errno to the guest */
	KBOX_RES_CONTINUE, /* let the host kernel run the call as the guest made it */
	KBOX_RES_FD,	   /* place kbox-owned fd in the guest; guest sees its number */
	KBOX_RES_DEFERRED, /* the handler answers later through tier->respond */
};

/*
 * How the call was answered, for tracing and statistics only.
 */
enum kbox_disposition {
	KBOX_DISP_EMULATED, /* answered from kbox state */
	KBOX_DISP_BACKEND,  /* answered through a filesystem backend */
	KBOX_DISP_HOST,	    /* CONTINUE: the host kernel ran it */
	KBOX_DISP_DENIED,   /* refused by policy (EPERM, ENOSYS) */
	KBOX_DISP_COUNT,
};

struct kbox_result {
	enum kbox_result_kind kind;
	enum kbox_disposition disp;
	int64_t value;	 /* KBOX_RES_VALUE */
	int fd;		 /* KBOX_RES_FD: kbox-owned, closed by the tier */
	bool fd_cloexec; /* KBOX_RES_FD */
};

static inline struct kbox_result kbox_res_value(int64_t v, enum kbox_disposition d)
{
	return (struct kbox_result){.kind = KBOX_RES_VALUE, .disp = d, .value = v, .fd = -1};
}

static inline struct kbox_result kbox_res_continue(void)
{
	return (struct kbox_result){.kind = KBOX_RES_CONTINUE, .disp = KBOX_DISP_HOST, .fd = -1};
}

static inline struct kbox_result kbox_res_fd(int fd, bool cloexec)
{
	return (struct kbox_result){
		.kind = KBOX_RES_FD, .disp = KBOX_DISP_BACKEND, .fd = fd, .fd_cloexec = cloexec};
}

static inline struct kbox_result kbox_res_deferred(void)
{
	return (struct kbox_result){.kind = KBOX_RES_DEFERRED, .fd = -1};
}

#endif
