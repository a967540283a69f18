package ldapserver_test

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/dirgate/dirgate/internal/ldapserver"
)

// pipeListener hands the server the far ends of net.Pipe connections.
type pipeListener struct {
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.ch <- server
	return client
}

// FuzzServerInput feeds arbitrary bytes to a connection: whatever arrives,
// the server must answer or disconnect, never panic or hang.
func FuzzServerInput(f *testing.F) {
	seeds := [][]byte{
		bindReq(1, 3, "cn=admin", "secret"),
		append(bindReq(1, 3, "cn=admin", "secret"), searchReq(2, "ou=many", 3)...),
		append(bindReq(1, 3, "cn=admin", "secret"), searchReq(2, "ou=many", 0, pagedCtl(2, nil))...),
		append(bindReq(1, 3, "cn=admin", "secret"), searchReq(2, "dc=x", 0, pagedCtl(2, []byte("junk")))...),
		saslBindReq(1, "PLAIN"),
		extendedReq(1, "1.3.6.1.4.1.1466.20037"),
		append(bindReq(1, 3, "cn=admin", "secret"), append(compareReq(2, "cn=x", "a", "yes"), unbindReq(3)...)...),
		abandonReq(1, 1),
		deleteReq(1, "cn=x"),
		{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff},
		{0x30, 0x00},
		[]byte("GET / HTTP/1.0\r\n\r\n"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	l := newPipeListener()
	b := newTestBackend()
	close(b.release)
	srv, err := ldapserver.NewServer(ldapserver.Config{
		Backend:         b,
		AllowPlaintext:  true,
		AllowUnboundOps: true,
		Logger:          quietLogger(),
	})
	if err != nil {
		f.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		c := l.dial()
		done := make(chan struct{})
		go func() {
			io.Copy(io.Discard, c)
			close(done)
		}()
		c.Write(in)
		// End of input: an unbind closes the connection cleanly whatever
		// state the input left it in, unless the input is mid-message; then
		// closing our end ends it.
		c.Write(unbindReq(0x7fff))
		c.Close()
		<-done
	})
}
