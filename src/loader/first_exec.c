// SPDX-License-Identifier: MIT
#include "loader.h"

extern const char kbox_loader_first_exec_site[];

uint64_t kbox_loader_first_exec_ip(void)
{
	return (uint64_t)(uintptr_t)kbox_loader_first_exec_site;
}
