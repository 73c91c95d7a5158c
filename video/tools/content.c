/*
 * scone-video-content: what scripts/scone-content needs from C.
 *
 *   scone-video-content ladder
 *       the rungs to encode: "video BPS WIDTH HEIGHT" lines, one "audio BPS"
 *   scone-video-content synth DIR [--duration S] [--segment S] [--seed N]
 *       synthetic content: the MPD and every segment at its size, as sparse
 *       files of zeros (instant, and no disk space)
 *   scone-video-content check DIR [MPD]
 *       parses DIR/MPD (default manifest.mpd) with libscone_video, checks
 *       that every init and media segment it addresses exists under DIR and
 *       prints the segment sizes per rung
 */
#include <scone/video.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: scone-video-content ladder\n"
    "       scone-video-content synth DIR [--duration S] [--segment S] "
    "[--seed N]\n"
    "       scone-video-content check DIR [MPD]\n"
    "       scone-video-content --help\n";

static int usage(void) {
  fputs(usage_text, stderr);
  return 2;
}

static int cmd_ladder(void) {
  for (size_t i = 0; i < SCONE_VIDEO_LADDER_RUNGS; i++)
    printf("video %" PRIu64 " %" PRIu32 " %" PRIu32 "\n",
           scone_video_ladder[i].bps, scone_video_ladder[i].width,
           scone_video_ladder[i].height);
  printf("audio %d\n", SCONE_VIDEO_AUDIO_BPS);
  return 0;
}

static int write_file(const char *dir, const char *name, const void *data,
                      size_t len, uint64_t size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) ||
      (!len && ftruncate(fd, (off_t)size) != 0)) {
    fprintf(stderr, "scone-video-content: %s: %s\n", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return close(fd);
}

static int parse_seconds(const char *s, scone_duration *out) {
  char *end;
  double v = strtod(s, &end);
  if (*end || !(v > 0) || v > 86400)
    return -1;
  *out = (scone_duration)(v * 1e9);
  return 0;
}

static int cmd_synth(int argc, char **argv) {
  if (argc < 1)
    return usage();
  const char *dir = argv[0];
  scone_video_synth_settings s;
  scone_video_synth_settings_default(&s);
  for (int i = 1; i < argc; i++) {
    if (i + 1 < argc && !strcmp(argv[i], "--duration")) {
      if (parse_seconds(argv[++i], &s.duration) < 0)
        return usage();
    } else if (i + 1 < argc && !strcmp(argv[i], "--segment")) {
      if (parse_seconds(argv[++i], &s.segment) < 0)
        return usage();
    } else if (i + 1 < argc && !strcmp(argv[i], "--seed")) {
      s.seed = strtoull(argv[++i], NULL, 10);
    } else {
      return usage();
    }
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "scone-video-content: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  static char mpd[16384];
  int n = scone_video_synth_mpd(mpd, sizeof mpd, &s);
  if (n < 0) {
    fprintf(stderr, "scone-video-content: %s\n", scone_video_strerror(n));
    return 1;
  }
  if (write_file(dir, "manifest.mpd", mpd, (size_t)n, 0) < 0)
    return 1;
  uint64_t nseg = (s.duration + s.segment - 1) / s.segment;
  for (uint32_t rep = 0; rep <= SCONE_VIDEO_LADDER_RUNGS; rep++) {
    char name[64];
    snprintf(name, sizeof name, "init-stream%" PRIu32 ".m4s", rep);
    if (write_file(dir, name, NULL, 0, scone_video_synth_size(&s, rep, 0)) < 0)
      return 1;
    for (uint64_t k = 1; k <= nseg; k++) {
      snprintf(name, sizeof name, "chunk-stream%" PRIu32 "-%05" PRIu64 ".m4s",
               rep, k);
      if (write_file(dir, name, NULL, 0, scone_video_synth_size(&s, rep, k)) <
          0)
        return 1;
    }
  }
  printf("synthetic content: %s/manifest.mpd, %" PRIu64 " segments of %.3f s "
         "per representation\n",
         dir, nseg, (double)s.segment / 1e9);
  return 0;
}

/* The size of the file a resolved path names under dir, or -1. */
static int64_t file_size(const char *dir, const char *path) {
  if (path[0] != '/') {
    fprintf(stderr, "scone-video-content: %s: not a path on this server\n",
            path);
    return -1;
  }
  char full[8192];
  snprintf(full, sizeof full, "%s%s", dir, path);
  struct stat st;
  if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
    fprintf(stderr, "scone-video-content: missing %s\n", full);
    return -1;
  }
  return st.st_size;
}

static int cmd_check(int argc, char **argv) {
  if (argc < 1 || argc > 2)
    return usage();
  const char *dir = argv[0];
  const char *name = argc > 1 ? argv[1] : "manifest.mpd";
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "scone-video-content: %s: %s\n", path, strerror(errno));
    return 1;
  }
  static char xml[1 << 20];
  size_t len = fread(xml, 1, sizeof xml, f);
  fclose(f);
  scone_video_mpd *mpd = malloc(sizeof *mpd);
  if (!mpd)
    return 1;
  scone_video_mpd_error err;
  int r = scone_video_mpd_parse(mpd, xml, len, NULL, &err);
  if (r < 0) {
    fprintf(stderr, "scone-video-content: %s:%d: %s (%s)\n", path, err.line,
            err.what, scone_video_strerror(r));
    free(mpd);
    return 1;
  }
  char url_base[4200];
  snprintf(url_base, sizeof url_base, "/%s", name);
  printf("%s: %.3f s, %" PRIu32 " period(s), %" PRIu32 " representation(s)\n",
         path, (double)mpd->duration / 1e9, mpd->nperiods, mpd->nreps);
  printf("%-5s %-4s %-5s %8s %9s %5s %9s %9s %9s %9s %6s\n", "rung", "id",
         "media", "kbit/s", "size", "segs", "mean B", "min B", "max B",
         "kbit/s", "%");
  int bad = 0;
  for (uint32_t i = 0; i < mpd->nreps; i++) {
    const scone_video_rep *rep = &mpd->reps[i];
    const scone_video_set *set = &mpd->sets[rep->set];
    char url[SCONE_VIDEO_URL_MAX + 1];
    if (rep->init[0] && (scone_video_mpd_url(mpd, i, SCONE_VIDEO_INIT, url_base,
                                             url, sizeof url) < 0 ||
                         file_size(dir, url) < 0))
      bad = 1;
    uint64_t total = 0, lo = UINT64_MAX, hi = 0;
    scone_duration media = 0;
    for (uint64_t k = 0; k < rep->nsegments; k++) {
      scone_video_segment seg;
      scone_video_mpd_segment(mpd, i, k, &seg);
      int64_t size = -1;
      if (scone_video_mpd_url(mpd, i, k, url_base, url, sizeof url) >= 0)
        size = file_size(dir, url);
      if (size < 0) {
        bad = 1;
        continue;
      }
      total += (uint64_t)size;
      media += seg.duration;
      lo = (uint64_t)size < lo ? (uint64_t)size : lo;
      hi = (uint64_t)size > hi ? (uint64_t)size : hi;
    }
    double kbit = media ? (double)total * 8 / ((double)media / 1e9) / 1e3 : 0;
    char size[24] = "-";
    if (rep->width)
      snprintf(size, sizeof size, "%" PRIu32 "x%" PRIu32, rep->width,
               rep->height);
    printf("%-5u %-4s %-5s %8.0f %9s %5" PRIu64 " %9.0f %9" PRIu64 " %9" PRIu64
           " %9.0f %6.1f\n",
           i - set->first_rep, rep->id,
           set->media == SCONE_VIDEO_MEDIA_VIDEO   ? "video"
           : set->media == SCONE_VIDEO_MEDIA_AUDIO ? "audio"
                                                   : "other",
           (double)rep->bandwidth / 1e3, size, rep->nsegments,
           rep->nsegments ? (double)total / (double)rep->nsegments : 0,
           lo == UINT64_MAX ? 0 : lo, hi, kbit,
           100.0 * kbit * 1e3 / (double)rep->bandwidth);
  }
  free(mpd);
  if (bad)
    fprintf(stderr, "scone-video-content: %s: segments missing\n", dir);
  return bad;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage();
  if ((!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) && argc == 2) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (!strcmp(argv[1], "ladder") && argc == 2)
    return cmd_ladder();
  if (!strcmp(argv[1], "synth"))
    return cmd_synth(argc - 2, argv + 2);
  if (!strcmp(argv[1], "check"))
    return cmd_check(argc - 2, argv + 2);
  return usage();
}
