/* Process groups and sessions: setpgid, getpgid, setsid (and its EPERM for
 * a group leader), kill of a whole group, getsid; printed relationally. */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>

int main(void)
{
	int status, p[2];
	pipe(p);

	pid_t pid = fork();
	if (pid == 0) {
		pid_t sid = setsid();
		printf("child setsid: %d\n", sid == getpid());
		printf("child sid_is_self: %d pgid_is_self: %d\n", getsid(0) == getpid(),
		       getpgrp() == getpid());
		report("child setsid_again", setsid());
		report("child setpgid_other_session", setpgid(0, getppid()));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);

	/* A new group with two members; kill(-pgid) reaches both. */
	pid_t leader = fork();
	if (leader == 0) {
		setpgid(0, 0);
		char c;
		read(p[0], &c, 1); /* never gets data: killed while waiting */
		_exit(1);
	}
	setpgid(leader, leader); /* both sides, as shells do */
	pid_t member = fork();
	if (member == 0) {
		setpgid(0, leader);
		char c;
		read(p[0], &c, 1);
		_exit(1);
	}
	setpgid(member, leader);
	printf("leader_pgid: %d\n", getpgid(leader) == leader);
	printf("member_pgid: %d\n", getpgid(member) == leader);
	printf("parent_not_in_group: %d\n", getpgrp() != leader);
	report("setpgid_bad_group", setpgid(member, 999999));
	report("kill_group", kill(-leader, SIGTERM));
	waitpid(leader, &status, 0);
	printf("leader: signaled %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));
	waitpid(member, &status, 0);
	printf("member: signaled %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));

	/* The parent's own session and group: same sid as its parent's? Only
	 * print what is stable: setsid fails when already a group leader. */
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		report("leader setsid", setsid());
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	report("getpgid_missing", getpgid(999999));
	return 0;
}
