/*
 * A minimal HTTP/1.0 client for the control tests, so they need neither
 * curl nor a shell's /dev/tcp: sct_http METHOD ADDR:PORT|SOCKET-PATH PATH.
 * Prints "status=CODE", then the body. Exits 0 when a response came.
 */
#include "addr.h" /* sconed_addr_parse: the same ADDR:PORT strings as sconed */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_to(const char *target) {
  if (strchr(target, '/')) {
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(target) >= sizeof(sun.sun_path))
      return -1;
    strcpy(sun.sun_path, target);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
      return fd;
    if (fd >= 0)
      close(fd);
    return -1;
  }
  sconed_addr a;
  char err[256];
  if (sconed_addr_parse(target, &a, err, sizeof(err)) < 0)
    return -1;
  int fd = socket(a.ss.ss_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a.ss, a.len) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: sct_http METHOD ADDR:PORT|SOCKET-PATH PATH\n");
    return 2;
  }
  int fd = connect_to(argv[2]);
  if (fd < 0) {
    fprintf(stderr, "sct_http: cannot connect to %s\n", argv[2]);
    return 1;
  }
  char req[2048];
  int n = snprintf(req, sizeof(req),
                   "%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0"
                   "\r\nConnection: close\r\n\r\n",
                   argv[1], argv[3]);
  if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n) {
    close(fd);
    return 1;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap + 1);
  ssize_t r;
  while (buf && (r = read(fd, buf + len, cap - len)) > 0) {
    len += (size_t)r;
    if (len == cap) {
      char *p = realloc(buf, cap * 2 + 1);
      if (!p)
        break;
      buf = p;
      cap *= 2;
    }
  }
  close(fd);
  if (!buf)
    return 1;
  buf[len] = 0;
  int status = 0;
  char *body = strstr(buf, "\r\n\r\n");
  if (sscanf(buf, "HTTP/%*s %d", &status) != 1 || !body) {
    free(buf);
    return 1;
  }
  printf("status=%d\n%s", status, body + 4);
  free(buf);
  return 0;
}
