/* client/bench_netns.c: the kernel impairment network of `parley-bench
 * quality --impair-kernel loss=P%`.
 *
 * The same shape as tests/e2e/lib/lossnet.mjs (see ../shared/TESTING.md):
 * two network namespaces joined by a veth pair, IPv6 off, no route out,
 * and on the ingress of each veth end an nftables netdev rule dropping P %
 * of the UDP at random (this kernel has no netem; an output-chain drop
 * would fail sendto() instead of losing the datagram).  TCP, the
 * WebSocket, is never dropped.
 *
 *   namespace A: parleyd (started here, listening on ADDR_A), the clean
 *                participants, and this process's main thread
 *   namespace B: the loop thread of the impaired participant (setns on
 *                that thread only, before it opens a socket)
 *
 * No address is added outside the two namespaces, so nothing can leave
 * them.  Everything is undone by q_netns_teardown(), which the caller runs
 * on every path; namespaces left by a run that was killed (name with a
 * dead pid) are removed by the next run.  Needs root, `ip` and `nft`.
 * Main thread only (q_netns_enter_b runs on the loop thread it moves).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include "client/bench_quality.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ADDR_A "10.78.0.1"
#define ADDR_B "10.78.0.2"
#define PLEN "30"
#define PREFIX "pq-"
#define TABLE "parley_quality"

static char data_dir[64];

/* Runs argv (no shell), feeding input (may be NULL) on stdin and keeping
 * up to out_cap - 1 bytes of stdout in out (may be NULL).  Returns the
 * exit status, -1 when it could not run. */
static int run(const char *const argv[], const char *input, char *out, size_t out_cap)
{
	int in_p[2], out_p[2], st;
	size_t len = 0;
	pid_t pid;

	if (pipe(in_p) < 0)
		return -1;
	if (pipe(out_p) < 0) {
		close(in_p[0]), close(in_p[1]);
		return -1;
	}
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(in_p[0], 0);
		dup2(out_p[1], 1);
		if (!out && null >= 0)
			dup2(null, 1);
		if (null >= 0)
			dup2(null, 2);
		close(in_p[1]), close(out_p[0]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in_p[0]), close(out_p[1]);
	if (pid > 0 && input)
		(void)!write(in_p[1], input, strlen(input));
	close(in_p[1]);
	for (;;) {
		char tmp[4096];
		ssize_t r = read(out_p[0], tmp, sizeof(tmp));
		if (r <= 0)
			break;
		if (out && len + 1 < out_cap) {
			size_t k = (size_t)r < out_cap - 1 - len ? (size_t)r : out_cap - 1 - len;
			memcpy(out + len, tmp, k);
			len += k;
		}
	}
	close(out_p[0]);
	if (out && out_cap)
		out[len] = '\0';
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define RUN(...) run((const char *const[]){ __VA_ARGS__, NULL }, NULL, NULL, 0)

const char *q_netns_missing(void)
{
	if (geteuid() != 0)
		return "needs root (network namespaces and nftables); run as root or leave the option out";
	if (RUN("ip", "-V") != 0)
		return "`ip` not found (apt-get install iproute2)";
	if (RUN("nft", "--version") != 0)
		return "`nft` not found (apt-get install nftables)";
	return NULL;
}

/* Namespaces of earlier runs whose process is gone. */
static void preclean(void)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		long pid;
		char ab;

		if (sscanf(e->d_name, PREFIX "%ld-%c", &pid, &ab) == 2 && pid > 0 &&
		    kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			RUN("ip", "netns", "del", e->d_name);
	}
	closedir(d);
}

static int open_ns(const char *name)
{
	char path[96];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int make_ns(const char *ns)
{
	if (RUN("ip", "netns", "add", ns) != 0)
		return PL_ESYS;
	/* IPv6 off before the veth exists: no link-local address either. */
	RUN("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
	    "net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.lo.disable_ipv6=1");
	return RUN("ip", "-n", ns, "link", "set", "lo", "up") == 0 ? 0 : PL_ESYS;
}

static int set_loss(const char *ns, const char *dev, int pct)
{
	char rules[1024];

	snprintf(rules, sizeof(rules),
		 "table netdev " TABLE " {\n"
		 "  counter udp_seen {}\n  counter udp_dropped {}\n"
		 "  chain ingress {\n"
		 "    type filter hook ingress device \"%s\" priority 0; policy accept;\n"
		 "    ip protocol udp counter name \"udp_seen\"\n"
		 "    ip protocol udp numgen random mod 100 < %d counter name \"udp_dropped\" drop\n"
		 "  }\n}\n", dev, pct);
	return run((const char *const[]){ "ip", "netns", "exec", ns, "nft", "-f", "-", NULL }, rules,
		   NULL, 0) == 0 ? 0 : PL_ESYS;
}

/* Starts parleyd in A (this thread's namespace now) and reads its port
 * from its log. */
static int start_parleyd(struct q_netns *n, const char *exe)
{
	char log_path[96], listen[32], buf[8192];
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	pid_t pid;

	snprintf(data_dir, sizeof(data_dir), "/tmp/parley-quality-XXXXXX");
	if (!mkdtemp(data_dir))
		return PL_ESYS;
	snprintf(log_path, sizeof(log_path), "%s/parleyd.log", data_dir);
	snprintf(listen, sizeof(listen), "%s:0", ADDR_A);
	if ((pid = fork()) == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		/* parleyd must not outlive a bench that is killed outright. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0)
			dup2(fd, 1), dup2(fd, 2);
		execl(exe, exe, "--listen", listen, "--data-dir", data_dir, "--set",
		      "media.ice_addresses=" ADDR_A, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return PL_ESYS;
	n->parleyd_pid = pid;
	for (int i = 0; i < 300; i++) {           /* 15 s */
		FILE *f = fopen(log_path, "r");
		size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		const char *m;

		if (f)
			fclose(f);
		buf[len] = '\0';
		if ((m = strstr(buf, "listening on http://" ADDR_A ":")) &&
		    sscanf(m + strlen("listening on http://" ADDR_A ":"), "%d", &n->port) == 1)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			n->parleyd_pid = 0;
			fprintf(stderr, "parley-bench quality: parleyd exited:\n%s\n", buf);
			return PL_EIO;
		}
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "parley-bench quality: parleyd did not start:\n%s\n", buf);
	return PL_EIO;
}

int q_netns_setup(struct q_netns *n, double loss_pct, const char *parleyd)
{
	int rc;

	preclean();
	snprintf(n->ns_a, sizeof(n->ns_a), PREFIX "%ld-a", (long)getpid());
	snprintf(n->ns_b, sizeof(n->ns_b), PREFIX "%ld-b", (long)getpid());
	snprintf(n->if_a, sizeof(n->if_a), "pqv%lda", (long)getpid() % 10000000);
	snprintf(n->if_b, sizeof(n->if_b), "pqv%ldb", (long)getpid() % 10000000);
	n->addr_a = ADDR_A, n->addr_b = ADDR_B;
	n->made = true;                   /* from here on, teardown has work */
	if ((rc = make_ns(n->ns_a)) < 0 || (rc = make_ns(n->ns_b)) < 0)
		goto fail;
	/* Both ends made inside their namespaces: never in the host's. */
	if (RUN("ip", "link", "add", n->if_a, "netns", n->ns_a, "type", "veth", "peer", "name",
		n->if_b, "netns", n->ns_b) != 0 ||
	    RUN("ip", "-n", n->ns_a, "addr", "add", ADDR_A "/" PLEN, "dev", n->if_a) != 0 ||
	    RUN("ip", "-n", n->ns_b, "addr", "add", ADDR_B "/" PLEN, "dev", n->if_b) != 0 ||
	    RUN("ip", "-n", n->ns_a, "link", "set", n->if_a, "up") != 0 ||
	    RUN("ip", "-n", n->ns_b, "link", "set", n->if_b, "up") != 0) {
		rc = PL_ESYS;
		goto fail;
	}
	if ((rc = set_loss(n->ns_a, n->if_a, (int)loss_pct)) < 0 ||
	    (rc = set_loss(n->ns_b, n->if_b, (int)loss_pct)) < 0)
		goto fail;
	n->fd_host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	n->fd_a = open_ns(n->ns_a);
	n->fd_b = open_ns(n->ns_b);
	if (n->fd_host < 0 || n->fd_a < 0 || n->fd_b < 0 || setns(n->fd_a, CLONE_NEWNET) < 0) {
		rc = PL_ESYS;
		goto fail;
	}
	if ((rc = start_parleyd(n, parleyd)) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "parley-bench quality: cannot build the namespaces: %s\n", pl_strerror(rc));
	return rc;
}

int q_netns_enter_b(const struct q_netns *n)
{
	return setns(n->fd_b, CLONE_NEWNET) < 0 ? PL_ESYS : 0;
}

static void counters_of(const char *ns, uint64_t *seen, uint64_t *dropped)
{
	static char out[16384];
	json_t *j, *arr, *o;
	size_t i;

	if (run((const char *const[]){ "ip", "netns", "exec", ns, "nft", "-j", "list", "counters",
				       "table", "netdev", TABLE, NULL }, NULL, out, sizeof(out)) != 0 ||
	    !(j = json_loads(out, 0, NULL)))
		return;
	arr = json_object_get(j, "nftables");
	json_array_foreach(arr, i, o) {
		json_t *c = json_object_get(o, "counter");
		const char *name = json_string_value(json_object_get(c, "name"));
		uint64_t pk = (uint64_t)json_integer_value(json_object_get(c, "packets"));

		if (name && !strcmp(name, "udp_seen"))
			*seen += pk;
		else if (name && !strcmp(name, "udp_dropped"))
			*dropped += pk;
	}
	json_decref(j);
}

void q_netns_counters(const struct q_netns *n, uint64_t *seen, uint64_t *dropped)
{
	*seen = *dropped = 0;
	if (!n->made)
		return;
	counters_of(n->ns_a, seen, dropped);
	counters_of(n->ns_b, seen, dropped);
}

void q_netns_teardown(struct q_netns *n)
{
	if (n->parleyd_pid > 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		int i;

		kill((pid_t)n->parleyd_pid, SIGTERM);
		for (i = 0; i < 100 && waitpid((pid_t)n->parleyd_pid, NULL, WNOHANG) == 0; i++)
			nanosleep(&ts, NULL);
		if (i == 100) {
			kill((pid_t)n->parleyd_pid, SIGKILL);
			waitpid((pid_t)n->parleyd_pid, NULL, 0);
		}
		n->parleyd_pid = 0;
	}
	if (n->fd_host >= 0) {
		(void)!setns(n->fd_host, CLONE_NEWNET);
		close(n->fd_host);
		n->fd_host = -1;
	}
	if (n->fd_a >= 0)
		close(n->fd_a);
	if (n->fd_b >= 0)
		close(n->fd_b);
	n->fd_a = n->fd_b = -1;
	if (n->made) {
		RUN("ip", "netns", "del", n->ns_b);
		RUN("ip", "netns", "del", n->ns_a);
		n->made = false;
	}
	if (data_dir[0]) {
		RUN("rm", "-rf", data_dir);
		data_dir[0] = '\0';
	}
}
