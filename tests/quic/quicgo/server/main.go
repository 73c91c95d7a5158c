// quicgo-server: an HTTP/3 server on quic-go, a QUIC stack independent of
// ngtcp2 that knows nothing of SCONE, for the interop tests. GET /bytes/N
// answers N bytes of the pattern scone-server uses ('a' + i % 26), so either
// client checks either server the same way.
//
// Prints "quicgo-server: listening on port P" on stderr once it serves, and
// its request count when SIGTERM or SIGINT stops it.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lucas-clemente/quic-go/http3"
)

// selfSigned makes a throwaway certificate for localhost: the clients under
// test run with --insecure.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// pattern writes n bytes of 'a' + i % 26 in large writes.
func pattern(w http.ResponseWriter, n int64) {
	var block [26 * 1024]byte
	for i := range block {
		block[i] = byte('a' + i%26)
	}
	for n > 0 {
		k := int64(len(block))
		if n < k {
			k = n
		}
		if _, err := w.Write(block[:k]); err != nil {
			return
		}
		n -= k
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address to serve on")
	flag.Parse()
	cert, err := selfSigned()
	if err != nil {
		fmt.Fprintln(os.Stderr, "quicgo-server: certificate:", err)
		os.Exit(1)
	}
	conn, err := net.ListenPacket("udp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quicgo-server:", err)
		os.Exit(1)
	}
	var requests int64
	mux := http.NewServeMux()
	mux.HandleFunc("/bytes/", func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&requests, 1)
		n, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/bytes/"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "bad size", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		pattern(w, n)
	})
	srv := &http3.Server{
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		srv.Close()
		conn.Close()
	}()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	fmt.Fprintf(os.Stderr, "quicgo-server: listening on port %d\n", port)
	err = srv.Serve(conn)
	fmt.Fprintf(os.Stderr, "quicgo-server: %d requests\n", atomic.LoadInt64(&requests))
	if err != nil && err != http.ErrServerClosed && !strings.Contains(err.Error(), "closed") {
		fmt.Fprintln(os.Stderr, "quicgo-server:", err)
		os.Exit(1)
	}
}
