/*
 * The video programs' costs, on loopback with synthetic content (the
 * ladder of `make content-fast`, written by scone-video-content synth):
 *
 *  - scone-player: CPU time (user + system, from wait4's rusage) per
 *    minute of media played, for one real-time session against
 *    scone-server. With no element on loopback it plays the top rung, the
 *    most bytes per minute the ladder has.
 *  - scone-server: bytes of segments served per second of its own CPU
 *    time (per core), with CMSD on and off (--no-cmsd): this program
 *    fetches every rung's segments over one connection, several requests
 *    in flight, each with the CMCD a player sends, for a fixed time; the
 *    server's rusage comes from wait4 once it has stopped. Runs alternate
 *    CMSD on and off; medians are quoted. Sending the bytes dominates and
 *    varies with how the two processes share the cores, so:
 *  - the answer itself (quic/respond.c: CMCD read, the response's fields,
 *    CMSD written), timed in-process for a segment request with the CMCD
 *    a player sends, CMSD on and off.
 *
 *   bench_video [--runs N] [--seconds S] [--media S] [--quick]
 *
 * Defaults: 5 runs of 5 s per server mode, 30 s of media played;
 * --quick: 1 run of 2 s, 10 s of media. The programs are taken from this
 * program's directory. Exits non-zero when a session or a transfer fails.
 */
#include "quic/respond.h"

#include <scone/quic.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define INFLIGHT 4
#define MAX_RUNS 15

static char bin[PATH_MAX], tmp[PATH_MAX];
/* The scone-server running now, if any: cleanup() stops it, so a bench that
 * fails mid-run does not leave it serving after we exit. */
static pid_t live_server;

static void die(const char *what) {
  fprintf(stderr, "bench_video: %s\n", what);
  exit(1);
}

static double cpu_s(const struct rusage *ru) {
  return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
         (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs argv with stdout and stderr to files; returns its pid. */
static pid_t spawn(char *const argv[], const char *out, const char *err) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    if (freopen(out, "w", stdout) == NULL || freopen(err, "w", stderr) == NULL)
      _exit(127);
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void path_in(char *buf, size_t len, const char *dir, const char *name) {
  if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
    die("path too long");
}

/* The port scone-server printed on stderr. */
static unsigned wait_port(const char *errfile, pid_t pid) {
  for (int i = 0; i < 400; i++) {
    FILE *f = fopen(errfile, "r");
    char line[512];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
      const char *p = strstr(line, "listening on port ");
      if (p != NULL) {
        fclose(f);
        return (unsigned)atoi(p + 18);
      }
    }
    if (f != NULL)
      fclose(f);
    if (waitpid(pid, NULL, WNOHANG) == pid)
      break;
    usleep(25000);
  }
  die("scone-server did not start");
  return 0;
}

static pid_t start_server(int cmsd, unsigned *port) {
  char server[PATH_MAX + 32], root[PATH_MAX + 32], state[PATH_MAX + 32];
  char err[PATH_MAX + 32];
  path_in(server, sizeof(server), bin, "scone-server");
  path_in(root, sizeof(root), tmp, "content");
  path_in(state, sizeof(state), tmp, "state");
  path_in(err, sizeof(err), tmp, "server.err");
  unlink(err); /* the last server's port is not this one's */
  char *argv[] = {
      server, "--listen",    "127.0.0.1:0", "--root",
      root,   "--state-dir", state,         cmsd ? NULL : "--no-cmsd",
      NULL};
  pid_t pid = spawn(argv, "/dev/null", err);
  live_server = pid;
  *port = wait_port(err, pid);
  return pid;
}

/* Stops the server; its CPU seconds. */
static double stop_server(pid_t pid) {
  kill(pid, SIGTERM);
  int status;
  struct rusage ru;
  pid_t got = wait4(pid, &status, 0, &ru);
  live_server = 0;
  if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("scone-server did not stop cleanly");
  return cpu_s(&ru);
}

/* ------------------------------------------------------------- player */

static void bench_player(double media_s) {
  unsigned port;
  pid_t srv = start_server(1, &port);
  char player[PATH_MAX + 32], out[PATH_MAX + 32], err[PATH_MAX + 32];
  char url[128], dur[32];
  path_in(player, sizeof(player), bin, "scone-player");
  path_in(out, sizeof(out), tmp, "player.out");
  path_in(err, sizeof(err), tmp, "player.err");
  snprintf(url, sizeof(url), "https://127.0.0.1:%u/manifest.mpd", port);
  snprintf(dur, sizeof(dur), "%gs", media_s);
  char *argv[] = {player, "--insecure", "--quiet", "--duration",
                  dur,    url,          NULL};
  pid_t pid = spawn(argv, out, err);
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    die("scone-player failed (see its stderr in the temporary directory)");
  stop_server(srv);
  /* The record: played_s and the time-weighted bitrate. */
  FILE *f = fopen(out, "r");
  char rec[65536] = "";
  if (f == NULL || fgets(rec, sizeof(rec), f) == NULL)
    die("no QoE record");
  fclose(f);
  const char *pl = strstr(rec, "\"played_s\":");
  const char *br = strstr(rec, "\"time_weighted_bitrate_bps\":");
  if (pl == NULL || br == NULL)
    die("QoE record without played_s");
  double played = atof(pl + 11), bps = atof(br + 28);
  double cpu = cpu_s(&ru);
  printf("player: %.3f CPU-s per played minute (%.3f s user+sys for %.0f s "
         "played at %.2f Mbit/s, %ld kB max RSS)\n",
         cpu * 60 / played, cpu, played, bps / 1e6, ru.ru_maxrss);
}

/* ------------------------------------------------------------- server */

typedef struct load {
  scone_quic_client *cl;
  uint64_t bytes, responses, failures;
  uint32_t next; /* segment counter */
  int stop;
} load;

/* Video rungs 0..9 and the audio, segments 1..20, round robin. */
static int next_request(load *l) {
  uint32_t n = l->next++;
  uint32_t rep = n % 11, number = 1 + (n / 11) % 20;
  char path[96], obj[64];
  snprintf(path, sizeof(path), "/chunk-stream%u-%05u.m4s", rep, number);
  snprintf(obj, sizeof(obj), "br=%u,d=2000,ot=%s", rep == 10 ? 128 : 1000,
           rep == 10 ? "a" : "v");
  scone_quic_header h[] = {
      {"cmcd-request", "bl=21300,mtp=25400"},
      {"cmcd-object", obj},
      {"cmcd-status", "rtp=25000"},
      {"cmcd-session", "sf=d,sid=\"6e2f1a2b-0000-4000-8000-bench\",st=v"},
  };
  scone_quic_request req;
  scone_quic_request_default(&req);
  req.path = path;
  req.headers = h;
  req.nheaders = 4;
  return scone_quic_client_request(l->cl, &req);
}

static void on_done(scone_quic_client *cl, const scone_quic_response *r,
                    void *ud) {
  (void)cl;
  load *l = ud;
  l->bytes += r->body_bytes;
  l->responses++;
  if (r->error != 0 || r->status != 200)
    l->failures++;
  if (!l->stop && next_request(l) < 0)
    l->failures++;
}

/* One timed run: bytes per server CPU second, and responses per second. */
static void serve_run(int cmsd, double seconds, double *bps_core,
                      double *rps_core) {
  unsigned port;
  pid_t srv = start_server(cmsd, &port);
  load l;
  memset(&l, 0, sizeof(l));
  scone_quic_client_config cfg;
  scone_quic_client_config_default(&cfg);
  char portstr[8];
  snprintf(portstr, sizeof(portstr), "%u", port);
  cfg.host = "127.0.0.1";
  cfg.port = portstr;
  cfg.insecure = 1;
  scone_quic_client_callbacks hcb = {.response_done = on_done};
  if (scone_quic_client_new(&l.cl, &cfg, NULL, &hcb, &l) != 0)
    die("client");
  for (int i = 0; i < INFLIGHT; i++)
    if (next_request(&l) < 0)
      die("request");
  scone_tstamp end =
      scone_quic_now() + (scone_duration)(seconds * SCONE_SECONDS);
  int rv = scone_quic_client_run(l.cl, end, 0);
  l.stop = 1;
  if (rv != 0 || l.failures != 0 || l.responses == 0) {
    fprintf(stderr, "bench_video: run ended %d, %llu responses, %llu failed\n",
            rv, (unsigned long long)l.responses,
            (unsigned long long)l.failures);
    die("a transfer failed");
  }
  scone_quic_client_close(l.cl);
  scone_quic_client_del(l.cl);
  double cpu = stop_server(srv);
  *bps_core = (double)l.bytes / cpu;
  *rps_core = (double)l.responses / cpu;
}

static void bench_server(int runs, double seconds) {
  double on[MAX_RUNS], off[MAX_RUNS], ron[MAX_RUNS], roff[MAX_RUNS];
  for (int i = 0; i < runs; i++) {
    serve_run(1, seconds, &on[i], &ron[i]);
    serve_run(0, seconds, &off[i], &roff[i]);
    printf("  run %d: CMSD on %.1f MB/s per core, off %.1f MB/s per core\n",
           i + 1, on[i] / 1e6, off[i] / 1e6);
  }
  double a = median(on, runs), b = median(off, runs);
  printf("server: %.1f MB/s of segments per core with CMSD (%.0f "
         "responses/s), %.1f MB/s without (%.0f responses/s); on/off %.3f, "
         "median of %d\n",
         a / 1e6, median(ron, runs), b / 1e6, median(roff, runs),
         b > 0 ? a / b : 0, runs);
}

/* ------------------------------------------------- the answer alone */

/* A segment request as scone-player sends it. */
static void player_request(sq_request_in *in) {
  static const struct {
    const char *name, *value;
  } f[] = {
      {":method", "GET"},
      {":path", "/bytes/262144"},
      {"cmcd-request", "bl=21300,mtp=25400"},
      {"cmcd-object", "br=1050,d=2000,ot=v,tb=1050"},
      {"cmcd-status", "rtp=1300"},
      {"cmcd-session",
       "sf=d,sid=\"6e2f1a2b-0000-4000-8000-00000000b0b0\",st=v"},
  };
  memset(in, 0, sizeof(*in));
  for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
    sq_request_in_field(in, (const uint8_t *)f[i].name, strlen(f[i].name),
                        (const uint8_t *)f[i].value, strlen(f[i].value));
}

static sq_request_in g_in;
static sq_response_out g_out;

/* K answers; returns a checksum so that none is optimised away. */
static uint64_t answer(uint64_t k, int cmsd) {
  sq_respond_opts o = {.rootfd = -1, .cmsd = cmsd, .has_rtt = 1, .rtt_ms = 40};
  uint64_t sum = 0;
  for (uint64_t i = 0; i < k; i++) {
    sq_respond(&g_in, &o, &g_out);
    sum += g_out.nnv;
  }
  return sum;
}

static void bench_answer(int runs) {
  player_request(&g_in);
  const uint64_t k = 200000;
  double on[MAX_RUNS], off[MAX_RUNS];
  for (int i = 0; i < runs; i++) {
    for (int cmsd = 1; cmsd >= 0; cmsd--) {
      scone_tstamp t0 = scone_quic_now();
      if (answer(k, cmsd) == 0)
        die("no answer");
      double ns = (double)(scone_quic_now() - t0) / (double)k;
      (cmsd ? on : off)[i] = ns;
    }
  }
  double a = median(on, runs), b = median(off, runs);
  printf("answer: %.0f ns per segment request with CMSD, %.0f ns without "
         "(CMSD costs %.0f ns), median of %d x %llu\n",
         a, b, a - b, runs, (unsigned long long)k);
}

static void make_content(void) {
  char tool[PATH_MAX + 32], dir[PATH_MAX + 32], out[PATH_MAX + 32];
  path_in(tool, sizeof(tool), bin, "scone-video-content");
  path_in(dir, sizeof(dir), tmp, "content");
  path_in(out, sizeof(out), tmp, "content.log");
  char *argv[] = {tool, "synth", dir, "--duration", "60", NULL};
  int status;
  pid_t pid = spawn(argv, out, out);
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    die("scone-video-content synth failed");
}

static void cleanup(void) {
  if (live_server > 0) {
    kill(live_server, SIGTERM);
    waitpid(live_server, NULL, 0);
  }
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
  if (system(cmd) != 0)
    fprintf(stderr, "bench_video: could not remove %s\n", tmp);
}

int main(int argc, char **argv) {
  int runs = 5;
  double seconds = 5, media = 30;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      runs = 1;
      seconds = 2;
      media = 10;
    } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--media") == 0 && i + 1 < argc) {
      media = atof(argv[++i]);
    } else {
      fprintf(stderr, "usage: bench_video [--runs N] [--seconds S] "
                      "[--media S] [--quick]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > MAX_RUNS || seconds <= 0 || media < 4 || media > 60)
    die("--runs 1..15, --seconds > 0, --media 4..60");
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    die("cannot find my directory");
  self[n] = '\0';
  snprintf(bin, sizeof(bin), "%s", dirname(self));
  const char *t = getenv("TMPDIR");
  snprintf(tmp, sizeof(tmp), "%s/bench-video-XXXXXX",
           t != NULL && t[0] != '\0' ? t : "/tmp");
  if (mkdtemp(tmp) == NULL)
    die("mkdtemp");
  atexit(cleanup);
  signal(SIGPIPE, SIG_IGN);
  make_content();
  printf("bench_video: loopback, synthetic content; scone-player plays %.0f "
         "s, scone-server serves segments %d x %.0f s per mode\n",
         media, runs, seconds);
  bench_player(media);
  bench_server(runs, seconds);
  bench_answer(runs);
  return 0;
}
