// SPDX-License-Identifier: Apache-2.0
/*
 * Runs one or more tracers (lmp, or libbpf-tools peers) the way an operator would, and
 * measures what they cost: wall time from exec until ready, CPU spent getting there, RSS,
 * CPU% while a load command runs, events they reported lost, time to stop on SIGINT.
 *
 * usage: agentstat [-l LOAD] [-w MS] [-h SECONDS] [-k PODS [-f FIXTURES] [-i S] [-x EXE]]
 *                  -- OUTFILE READY CMD ARGS... [-- OUTFILE READY CMD ARGS...]
 *   OUTFILE  the tracer's stdout (/dev/null to discard)
 *   READY    text that the tracer prints (stderr or OUTFILE) once it is attached, or
 *            "@attached": it holds BPF links / perf events, unchanged for 300 ms
 *   -l LOAD  shell command run once every tracer is ready (+ -w MS, default 500); CPU% is
 *            measured over its run; its stdout passes through
 *   -h SECS  without -l: stay idle this long (default 0), then measure
 *   -k PODS  Kubernetes mode: PODS pods x 2 containers, each a real kubepods cgroup in the
 *            v2 tree, served as a kubelet PodList on 127.0.0.1 (--kubelet-url is added to
 *            the first tracer); once ready, one short process runs in each container's
 *            cgroup, so identity and per-pod metrics hold every one of them
 *   -i N     seconds to wait after the per-container processes (summaries, metrics)
 *   -x EXE   what those processes run (default /bin/true)
 *
 * prints one line of key=value: ready_ms start_cpu_ms rss_ready_kb hwm_kb load_s cpu_pct
 *   rss_kb rss_max_kb lost stop_ms bpf_ns bpf_runs (sums over the tracers where that makes
 *   sense; times: the slowest). rss_kb is read at the end of the load or hold, rss_max_kb
 *   is the highest of samples taken during it, hwm_kb the kernel's peak (VmHWM, start-up
 *   included).
 *   bpf_ns / bpf_runs: run time and runs of the tracers' BPF programs during the load
 *   (nonzero only with kernel.bpf_stats_enabled = 1).
 *
 * One file over 600 lines: a standalone measuring tool, one job.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <sys/wait.h>
#include <jansson.h>
#include <microhttpd.h>
#include <bpf/bpf.h>

#include "base/clock.h"

#include "k8s/cgroup.h"

#define MAX_TRACERS 4

struct tracer {
	char *out, *ready;
	char **argv;
	pid_t pid;
	int err_fd;
	char errbuf[8192]; /* partial stderr line */
	size_t errlen;
	bool is_ready;
	double t_ready;
	unsigned long long lost_total;	   /* libbpf-tools: sum of "Lost N events" */
	unsigned long long lost_probe[32]; /* lmp: last cumulative count per probe */
	char lost_name[32][32];
	int n_lost;
	int n_attached; /* READY "@attached" */
	double t_attached;
};

static struct tracer tr[MAX_TRACERS];
static int n_tr;

static void sleep_ms(int ms)
{
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&d, NULL);
}

/* utime + stime of a process (all its threads), in ms */
static double cpu_ms(pid_t pid)
{
	char p[64], buf[1024], *s;
	unsigned long long ut, st;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	s = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!s || !(s = strrchr(buf, ')')))
		return 0;
	/* after "comm)": state(3) ... utime(14) stime(15) */
	if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
}

static long status_kb(pid_t pid, const char *key)
{
	char p[64], line[256];
	size_t n = strlen(key);
	long v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = atol(line + n + 1);
	fclose(f);
	return v;
}

static void on_err_line(struct tracer *t, char *line)
{
	unsigned long long n, all;
	char name[32];
	const char *s;

	if (t->ready && strstr(line, t->ready) && !t->is_ready) {
		t->is_ready = true;
		t->t_ready = lmp_now_s();
	}
	/* lmp: "probe X: N events lost (ring buffer full) in the last interval, M in all" */
	if ((s = strstr(line, "probe ")) &&
	    sscanf(s,
		   "probe %31[^:]: %llu events lost (ring buffer full) in the last interval, "
		   "%llu in all",
		   name, &n, &all) == 3) {
		int i;

		for (i = 0; i < t->n_lost && strcmp(t->lost_name[i], name); i++)
			;
		if (i == t->n_lost && i < 32)
			snprintf(t->lost_name[t->n_lost++], sizeof(t->lost_name[0]), "%s", name);
		if (i < 32)
			t->lost_probe[i] = all;
	}
	/* libbpf-tools: "Lost N events on CPU #C!" */
	if ((s = strstr(line, "Lost ")) && sscanf(s, "Lost %llu events", &n) == 1)
		t->lost_total += n;
	if (getenv("AGENTSTAT_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", t->argv[0], line);
}

static void drain(struct tracer *t)
{
	ssize_t r;

	while (t->err_fd >= 0) {
		char *nl;

		r = read(t->err_fd, t->errbuf + t->errlen, sizeof(t->errbuf) - 1 - t->errlen);
		if (r <= 0) {
			if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(t->err_fd);
				t->err_fd = -1;
			}
			return;
		}
		t->errlen += r;
		t->errbuf[t->errlen] = 0;
		while ((nl = strchr(t->errbuf, '\n'))) {
			*nl = 0;
			on_err_line(t, t->errbuf);
			t->errlen -= nl + 1 - t->errbuf;
			memmove(t->errbuf, nl + 1, t->errlen + 1);
		}
		if (t->errlen == sizeof(t->errbuf) - 1) /* a very long line: keep the tail */
			t->errlen = 0;
	}
}

/* pump every tracer's stderr for ms milliseconds */
static void pump(int ms)
{
	double end = lmp_now_s() + ms / 1e3;

	do {
		struct pollfd pf[MAX_TRACERS];
		int n = 0, left = (int)((end - lmp_now_s()) * 1e3);

		for (int i = 0; i < n_tr; i++)
			if (tr[i].err_fd >= 0)
				pf[n++] = (struct pollfd){ .fd = tr[i].err_fd, .events = POLLIN };
		if (left < 0)
			left = 0;
		if (n == 0) {
			sleep_ms(left);
			break;
		}
		poll(pf, n, left > 50 ? 50 : left);
		for (int i = 0; i < n_tr; i++)
			drain(&tr[i]);
	} while (lmp_now_s() < end);
}

/* BPF links and perf events (bpftrace attaches through those) the process holds */
static int attached_count(pid_t pid)
{
	char p[300], l[64], line[128];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	dir = opendir(p);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		ssize_t len;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/%d/fd/%s", pid, d->d_name);
		len = readlink(p, l, sizeof(l) - 1);
		l[len > 0 ? len : 0] = 0;
		if (strcmp(l, "anon_inode:[perf_event]") == 0) {
			n++;
			continue;
		}
		if (strcmp(l, "anon_inode:bpf_link") != 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/fdinfo/%s", pid, d->d_name);
		f = fopen(p, "r");
		while (f && fgets(line, sizeof(line), f))
			n += strncmp(line, "link_id:", 8) == 0;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return n;
}

/*
 * READY "@attached": for tools whose banner sits in a full stdio buffer until they exit
 * (stdout is a file here): ready once they hold links or perf events and the count has
 * not changed for 300 ms.
 */
static bool attached_ready(struct tracer *t)
{
	int n = attached_count(t->pid);

	if (n != t->n_attached || n <= 0) {
		t->n_attached = n;
		t->t_attached = lmp_now_s();
		return false;
	}
	return lmp_now_s() - t->t_attached >= 0.3;
}

/* READY found in the head of the tracer's stdout file? */
static bool out_has_ready(struct tracer *t)
{
	char buf[8192];
	ssize_t n;
	int fd;

	if (strcmp(t->out, "/dev/null") == 0 || (fd = open(t->out, O_RDONLY)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, t->ready) != NULL;
}

static int start(struct tracer *t)
{
	int p[2], out;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	out = open(t->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return -errno;
	t->pid = fork();
	if (t->pid == 0) {
		dup2(out, 1);
		dup2(p[1], 2);
		execvp(t->argv[0], t->argv);
		fprintf(stderr, "exec %s: %s\n", t->argv[0], strerror(errno));
		_exit(127);
	}
	close(out);
	close(p[1]);
	t->err_fd = p[0];
	fcntl(t->err_fd, F_SETFL, O_NONBLOCK);
	return t->pid > 0 ? 0 : -errno;
}

/*
 * Run time and run count of every BPF program the tracers hold (kernel.bpf_stats_enabled
 * must be on for these to move): the kernel's own measure of what their hooks cost.
 */
static void bpf_stats(__u64 *ns, __u64 *runs)
{
	__u32 seen[512];
	int n_seen = 0;

	*ns = *runs = 0;
	for (int i = 0; i < n_tr; i++) {
		char p[300], line[128];
		struct dirent *d;
		DIR *dir;

		snprintf(p, sizeof(p), "/proc/%d/fdinfo", tr[i].pid);
		dir = opendir(p);
		while (dir && (d = readdir(dir))) {
			FILE *f;

			snprintf(p, sizeof(p), "/proc/%d/fdinfo/%s", tr[i].pid, d->d_name);
			f = fopen(p, "r");
			while (f && fgets(line, sizeof(line), f)) {
				struct bpf_prog_info info = {};
				__u32 id, len = sizeof(info);
				int k, fd;

				if (sscanf(line, "prog_id: %u", &id) != 1)
					continue;
				for (k = 0; k < n_seen && seen[k] != id; k++)
					;
				if (k < n_seen || n_seen == 512)
					continue;
				seen[n_seen++] = id;
				fd = bpf_prog_get_fd_by_id(id);
				if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
					*ns += info.run_time_ns;
					*runs += info.run_cnt;
				}
				if (fd >= 0)
					close(fd);
			}
			if (f)
				fclose(f);
		}
		if (dir)
			closedir(dir);
	}
}

/* the tracers' summed RSS now, kept in *max when higher (sampled while the load runs) */
static void sample_rss(long *max)
{
	long sum = 0;

	for (int i = 0; i < n_tr; i++)
		sum += status_kb(tr[i].pid, "VmRSS");
	if (sum > *max)
		*max = sum;
}

/* --- Kubernetes mode: pods, their cgroups, and a kubelet that lists them --- */

static char *podlist_body;
static size_t podlist_len;
static char k8s_base[512];
static char **ctr_paths;
static const char *ctr_exe = "/bin/true"; /* -x */
static int n_ctrs;

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *up,
			     size_t *up_len, void **con_cls)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(podlist_len, podlist_body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, 200, r);

	MHD_destroy_response(r);
	return ret;
}

/* n pods of 2 containers each, shaped like the first pod of a real 1.22 kubelet capture */
static int k8s_setup(const char *fixtures, int n, char *url, size_t urllen, struct MHD_Daemon **d)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	json_t *root, *tmpl, *items;
	struct lmp_cgroup *cg;
	char p[1024];

	snprintf(p, sizeof(p), "%s/kubelet/nri-kubernetes_k8s-1_22_pods.json", fixtures);
	root = json_load_file(p, 0, NULL);
	if (!root) {
		fprintf(stderr, "agentstat: cannot read %s\n", p);
		return -ENOENT;
	}
	if (lmp_cgroup_new(NULL, 0, &cg) < 0)
		return -ENOENT;
	snprintf(k8s_base, sizeof(k8s_base), "%s/lmp-bench-pods-%d", lmp_cgroup_root(cg), getpid());
	lmp_cgroup_free(cg);
	snprintf(p, sizeof(p), "%s/kubepods", k8s_base);
	if (mkdir(k8s_base, 0755) < 0 || mkdir(p, 0755) < 0)
		return -errno;
	ctr_paths = calloc(2 * n, sizeof(*ctr_paths));
	tmpl = json_deep_copy(json_array_get(json_object_get(root, "items"), 0));
	items = json_array();
	for (int i = 0; i < n; i++) {
		json_t *pod = json_deep_copy(tmpl), *cs, *c0;
		char uid[40], name[64], cid[80];

		snprintf(uid, sizeof(uid), "%08x-0000-4000-8000-%012x", i, i);
		snprintf(name, sizeof(name), "bench-pod-%d", i);
		json_object_set_new(json_object_get(pod, "metadata"), "uid", json_string(uid));
		json_object_set_new(json_object_get(pod, "metadata"), "name", json_string(name));
		cs = json_object_get(json_object_get(pod, "status"), "containerStatuses");
		c0 = json_deep_copy(json_array_get(cs, 0));
		json_array_clear(cs);
		snprintf(p, sizeof(p), "%s/kubepods/pod%s", k8s_base, uid);
		mkdir(p, 0755);
		for (int j = 0; j < 2; j++) {
			json_t *c = json_deep_copy(c0);

			snprintf(cid, sizeof(cid), "%056x%08x", i, j);
			snprintf(name, sizeof(name), "c%d", j);
			json_object_set_new(c, "name", json_string(name));
			snprintf(p, sizeof(p), "containerd://%s", cid);
			json_object_set_new(c, "containerID", json_string(p));
			json_array_append_new(cs, c);
			snprintf(p, sizeof(p), "%s/kubepods/pod%s/%s", k8s_base, uid, cid);
			if (mkdir(p, 0755) < 0) {
				perror(p);
				return -errno;
			}
			ctr_paths[n_ctrs++] = strdup(p);
		}
		json_decref(c0);
		json_array_append_new(items, pod);
	}
	json_object_set_new(root, "items", items);
	podlist_body = json_dumps(root, JSON_COMPACT);
	podlist_len = strlen(podlist_body);
	json_decref(tmpl);
	json_decref(root);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, serve, NULL,
			      MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	if (!*d)
		return -EIO;
	snprintf(url, urllen, "http://127.0.0.1:%u/pods",
		 MHD_get_daemon_info(*d, MHD_DAEMON_INFO_BIND_PORT)->port);
	return 0;
}

/*
 * One short process in each container cgroup: exec, a few syscalls, exit. Started straight
 * into its cgroup (clone3 CLONE_INTO_CGROUP, 5.7+): moving a running task takes the
 * cgroup threadgroup lock for writing, an RCU grace period each, 15+ ms here.
 */
static void k8s_activity(void)
{
	for (int i = 0; i < n_ctrs; i++) {
		int cg = open(ctr_paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct clone_args ca = { .flags = CLONE_INTO_CGROUP,
					 .exit_signal = SIGCHLD,
					 .cgroup = (__u64)cg };
		pid_t c = cg < 0 ? -1 : syscall(SYS_clone3, &ca, sizeof(ca));

		if (c == 0) {
			execl(ctr_exe, ctr_exe, (char *)NULL);
			_exit(127);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
		else
			fprintf(stderr, "agentstat: cannot start a process in %s: %s\n",
				ctr_paths[i], strerror(errno));
		if (cg >= 0)
			close(cg);
		if (i % 50 == 0)
			pump(0);
	}
}

static void k8s_cleanup(void)
{
	char p[1100];

	for (int i = 0; i < n_ctrs; i++) {
		for (int k = 0; k < 50 && rmdir(ctr_paths[i]) < 0 && errno == EBUSY; k++)
			sleep_ms(20);
		*strrchr(ctr_paths[i], '/') = 0;
		rmdir(ctr_paths[i]); /* the pod's directory, once its second container is gone */
		free(ctr_paths[i]);
	}
	snprintf(p, sizeof(p), "%s/kubepods", k8s_base);
	rmdir(p);
	rmdir(k8s_base);
}

int main(int argc, char **argv)
{
	const char *load = NULL, *fixtures = "tests/fixtures";
	int settle_ms = 500, hold_s = 0, pods = 0, idle_s = 3, i, o;
	double t0, t_ready = 0, start_cpu = 0, cpu0 = 0, cpu1 = 0, t_load0 = 0, t_load1 = 0, t_stop;
	long rss_ready = 0, rss = 0, hwm = 0, rss_max = 0;
	__u64 bpf_ns0 = 0, bpf_runs0 = 0, bpf_ns1 = 0, bpf_runs1 = 0;
	unsigned long long lost = 0;
	struct MHD_Daemon *mhd = NULL;
	char url[128], token[64] = "";
	int tfd;
	bool all_ready = false;

	while ((o = getopt(argc, argv, "+l:w:h:k:f:i:x:")) != -1) {
		switch (o) {
		case 'l':
			load = optarg;
			break;
		case 'w':
			settle_ms = atoi(optarg);
			break;
		case 'h':
			hold_s = atoi(optarg);
			break;
		case 'k':
			pods = atoi(optarg);
			break;
		case 'f':
			fixtures = optarg;
			break;
		case 'i':
			idle_s = atoi(optarg);
			break;
		case 'x':
			ctr_exe = optarg;
			break;
		default:
			return 2;
		}
	}
	/* tracer groups: -- OUT READY CMD ARGS... */
	for (i = optind; i < argc && n_tr < MAX_TRACERS;) {
		struct tracer *t = &tr[n_tr];
		int j;

		if (strcmp(argv[i], "--") == 0)
			i++;
		if (argc - i < 3)
			break;
		t->out = argv[i];
		t->ready = argv[i + 1];
		t->argv = calloc(argc - i + 5, sizeof(char *));
		for (j = i + 2; j < argc && strcmp(argv[j], "--"); j++)
			t->argv[j - i - 2] = argv[j];
		t->err_fd = -1;
		n_tr++;
		i = j;
	}
	if (n_tr == 0) {
		fprintf(stderr,
			"usage: agentstat [-l LOAD] [-w MS] [-h S] [-k PODS [-f DIR] [-i S]] "
			"-- OUTFILE READY CMD ARGS... [-- ...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pods) {
		int n = 0;

		while (tr[0].argv[n])
			n++;
		if (k8s_setup(fixtures, pods, url, sizeof(url), &mhd) < 0) {
			k8s_cleanup();
			return 1;
		}
		/* the agent sends the service-account token it is given; any will do here */
		snprintf(token, sizeof(token), "/tmp/lmp-bench-token-XXXXXX");
		tfd = mkstemp(token);
		if (tfd < 0 || write(tfd, "bench\n", 6) != 6) {
			k8s_cleanup();
			return 1;
		}
		close(tfd);
		tr[0].argv[n] = "--kubelet-url";
		tr[0].argv[n + 1] = url;
		tr[0].argv[n + 2] = "--kubelet-token-file";
		tr[0].argv[n + 3] = token;
	}
	t0 = lmp_now_s();
	for (i = 0; i < n_tr; i++)
		if (start(&tr[i]) < 0) {
			fprintf(stderr, "agentstat: cannot start %s\n", tr[i].argv[0]);
			return 1;
		}
	/* ready: every tracer printed its READY text (up to 60 s on a loaded machine) */
	while (!all_ready && lmp_now_s() - t0 < 60) {
		pump(10);
		all_ready = true;
		for (i = 0; i < n_tr; i++) {
			struct tracer *t = &tr[i];

			if (!t->is_ready &&
			    (strcmp(t->ready, "@attached") == 0 ? attached_ready(t) :
								  out_has_ready(t))) {
				t->is_ready = true;
				t->t_ready = lmp_now_s();
			}
			if (!t->is_ready && waitpid(t->pid, NULL, WNOHANG) == t->pid) {
				fprintf(stderr, "agentstat: %s exited before it was ready\n",
					t->argv[0]);
				t->pid = -1;
				goto stop;
			}
			all_ready &= t->is_ready;
		}
	}
	if (!all_ready) {
		fprintf(stderr, "agentstat: not ready after 60 s\n");
		goto stop;
	}
	for (i = 0; i < n_tr; i++) {
		if (tr[i].t_ready > t_ready)
			t_ready = tr[i].t_ready;
		start_cpu += cpu_ms(tr[i].pid);
		rss_ready += status_kb(tr[i].pid, "VmRSS");
	}
	if (pods) {
		double t = lmp_now_s();

		pump(settle_ms);
		k8s_activity();
		if (getenv("AGENTSTAT_VERBOSE"))
			fprintf(stderr, "agentstat: %d container processes in %.1f s\n", n_ctrs,
				lmp_now_s() - t);
		pump(idle_s * 1000);
	}
	pump(settle_ms);
	for (i = 0; i < n_tr; i++)
		cpu0 += cpu_ms(tr[i].pid);
	bpf_stats(&bpf_ns0, &bpf_runs0);
	t_load0 = lmp_now_s();
	if (load) {
		pid_t l = fork();

		if (l == 0) {
			execl("/bin/sh", "sh", "-c", load, NULL);
			_exit(127);
		}
		while (waitpid(l, NULL, WNOHANG) == 0) {
			pump(20);
			sample_rss(&rss_max);
		}
	} else {
		for (double end = lmp_now_s() + hold_s; lmp_now_s() < end;) {
			pump(100);
			sample_rss(&rss_max);
		}
	}
	t_load1 = lmp_now_s();
	bpf_stats(&bpf_ns1, &bpf_runs1);
	for (i = 0; i < n_tr; i++) {
		cpu1 += cpu_ms(tr[i].pid);
		rss += status_kb(tr[i].pid, "VmRSS");
		hwm += status_kb(tr[i].pid, "VmHWM");
	}
stop:
	t_stop = lmp_now_s();
	for (i = 0; i < n_tr; i++)
		if (tr[i].pid > 0)
			kill(tr[i].pid, SIGINT);
	for (i = 0; i < n_tr; i++) {
		struct tracer *t = &tr[i];

		while (t->pid > 0 && waitpid(t->pid, NULL, WNOHANG) == 0) {
			if (lmp_now_s() - t_stop > 10) {
				kill(t->pid, SIGKILL);
				waitpid(t->pid, NULL, 0);
				break;
			}
			pump(10);
		}
	}
	t_stop = lmp_now_s() - t_stop;
	for (i = 0; i < n_tr; i++) {
		drain(&tr[i]);
		lost += tr[i].lost_total;
		for (int k = 0; k < tr[i].n_lost; k++)
			lost += tr[i].lost_probe[k];
	}
	if (mhd)
		MHD_stop_daemon(mhd);
	if (pods) {
		double t = lmp_now_s();

		unlink(token);
		k8s_cleanup();
		if (getenv("AGENTSTAT_VERBOSE"))
			fprintf(stderr, "agentstat: cgroups removed in %.1f s\n", lmp_now_s() - t);
	}
	if (!all_ready)
		return 1;
	printf("ready_ms=%.0f start_cpu_ms=%.0f rss_ready_kb=%ld hwm_kb=%ld load_s=%.3f "
	       "cpu_pct=%.1f rss_kb=%ld rss_max_kb=%ld lost=%llu stop_ms=%.0f bpf_ns=%llu "
	       "bpf_runs=%llu\n",
	       (t_ready - t0) * 1e3, start_cpu, rss_ready, hwm, t_load1 - t_load0,
	       t_load1 > t_load0 ? (cpu1 - cpu0) / 10.0 / (t_load1 - t_load0) : 0, rss,
	       rss_max > rss ? rss_max : rss, lost, t_stop * 1e3,
	       (unsigned long long)(bpf_ns1 - bpf_ns0),
	       (unsigned long long)(bpf_runs1 - bpf_runs0));
	return 0;
}
