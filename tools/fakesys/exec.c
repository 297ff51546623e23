/* exec.c - running fusermount3 and friends: quietly, waiting for the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakesys.h"

int run_quiet(const char *const argv[])
{
    pid_t pid = fork();
    int status;

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int unmount_path(const char *root, bool lazy)
{
    const char *plain[] = {"fusermount3", "-u", "-q", root, NULL};
    const char *detach[] = {"fusermount3", "-u", "-q", "-z", root, NULL};

    if (run_quiet(lazy ? detach : plain) == 0)
        return 0;
    if (getuid() == 0 && umount2(root, lazy ? MNT_DETACH : 0) == 0)
        return 0;
    return -1;
}
