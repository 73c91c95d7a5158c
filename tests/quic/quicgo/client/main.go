// quicgo-client: HTTP/3 GETs on quic-go, a QUIC stack independent of ngtcp2
// that knows nothing of SCONE, for the interop tests.
//
// usage: quicgo-client [-repeat N] URL
// GETs URL N times over one connection without verifying the certificate,
// and prints one line a response on stdout:
//
//	GET <path> #<i>: status <code>, <bytes> bytes, pattern ok|bad
//
// "pattern" tells whether the body is the 'a' + i % 26 pattern of the
// servers' /bytes/N. Exits 0 when every response was a 200 with the pattern.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/lucas-clemente/quic-go/http3"
)

// check reads the body, counting its bytes and comparing them with the
// pattern.
func check(r io.Reader) (int64, bool, error) {
	var buf [32 * 1024]byte
	var n int64
	ok := true
	for {
		k, err := r.Read(buf[:])
		for i := 0; i < k; i++ {
			if buf[i] != byte('a'+(n+int64(i))%26) {
				ok = false
			}
		}
		n += int64(k)
		if err == io.EOF {
			return n, ok, nil
		}
		if err != nil {
			return n, false, err
		}
	}
}

func main() {
	repeat := flag.Int("repeat", 1, "GETs of the URL on one connection")
	flag.Parse()
	if flag.NArg() != 1 || *repeat < 1 {
		fmt.Fprintln(os.Stderr, "usage: quicgo-client [-repeat N] URL")
		os.Exit(2)
	}
	url := flag.Arg(0)
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quicgo-client:", err)
		os.Exit(2)
	}
	rt := &http3.RoundTripper{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	failed := false
	for i := 0; i < *repeat; i++ {
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, "quicgo-client:", err)
			os.Exit(1)
		}
		n, ok, err := check(resp.Body)
		resp.Body.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "quicgo-client: body:", err)
			os.Exit(1)
		}
		verdict := "ok"
		if !ok {
			verdict = "bad"
		}
		fmt.Printf("GET %s #%d: status %d, %d bytes, pattern %s\n",
			req.URL.Path, i, resp.StatusCode, n, verdict)
		if resp.StatusCode != 200 || !ok {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
